/** Small helpers shared by CLI commands: errors with exit codes, common options, progress bars. */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';

/** An error meant for the user: printed as one line, exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const DEFAULT_DB = './.tswarm/memory.db';

export function addDbOption(cmd: Command): Command {
  return cmd.option('--db <path>', 'memory store (SQLite file path, or postgres:// URL)', process.env.TSWARM_DB ?? DEFAULT_DB);
}

/** Finds a subcommand group (e.g. `eval`, `chaos`, `load`) or creates it, so several modules can add to it. */
export function commandGroup(program: Command, name: string, description: string): Command {
  const existing = program.commands.find((c) => c.name() === name);
  if (existing) return existing;
  return program.command(name).description(description);
}

export interface ProgressReporter {
  start(total: number, label?: string): void;
  update(done: number, label?: string): void;
  stop(): void;
}

/** A progress bar on a TTY; silent otherwise (CI logs and pipes stay clean). */
export function progressBar(enabled = process.stderr.isTTY === true): ProgressReporter {
  if (!enabled) return { start() {}, update() {}, stop() {} };
  const bar = new SingleBar(
    { format: ' {bar} {percentage}% | {value}/{total} | {label}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    Presets.shades_classic,
  );
  return {
    start: (total, label = '') => bar.start(total, 0, { label }),
    update: (done, label) => bar.update(done, label === undefined ? {} : { label }),
    stop: () => bar.stop(),
  };
}

/** Parses durations like `500ms`, `10s`, `5m`, `2h`, `3d` into milliseconds. */
export function parseDurationMs(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new CliError(`invalid duration "${text}" (use e.g. 500ms, 10s, 5m, 2h, 3d)`, 2);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit] ?? 1000;
  return n * factor;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
