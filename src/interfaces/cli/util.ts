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

/**
 * POSTs JSON to a running `tswarm serve` (`--server`), answering its JSON body; a refused token, a 4xx or an
 * unreachable server is a CliError that says which (exit 2 for the caller's own mistake, a 400; else 1).
 */
export async function postToTswarm(server: string, path: string, token: string | undefined, body: unknown): Promise<unknown> {
  return callTswarm('POST', server, path, token, body);
}

/** GETs JSON from a running `tswarm serve`, with postToTswarm's errors. */
export async function getFromTswarm(server: string, path: string, token: string | undefined): Promise<unknown> {
  return callTswarm('GET', server, path, token, undefined);
}

async function callTswarm(method: 'GET' | 'POST', server: string, path: string, token: string | undefined, body: unknown): Promise<unknown> {
  let url: URL;
  try {
    url = new URL(path, server);
  } catch {
    throw new CliError(`--server must be a URL such as http://127.0.0.1:4318 (got "${server}")`, 2);
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new CliError(`cannot reach ${url.origin}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, 1);
  }
  const answer = (await res.json().catch(() => ({}))) as { error?: string };
  if (res.status === 401) throw new CliError(`${url.origin} refused the token (pass --token or set TSWARM_TOKEN)`, 1);
  if (!res.ok) throw new CliError(`${url.origin} answered ${res.status}: ${answer.error ?? 'no reason given'}`, res.status === 400 || res.status === 404 ? 2 : 1);
  return answer;
}
