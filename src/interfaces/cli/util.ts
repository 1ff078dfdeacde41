/** Small helpers shared by CLI commands: errors with exit codes, common options, progress bars. */
import { parseDurationMs as parseDuration } from '../../algorithms/time/duration.js';
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

/** Durations like `500ms`, `10s`, `5m` as milliseconds; a bad one is a usage error (exit 2). */
export function parseDurationMs(text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new CliError((e as Error).message, 2);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
