/** Loggers for the runtime: JSON lines to a stream (servers), or silent (tests, the CLI's progress view). */
import type { Logger } from './contracts.js';

export function jsonLogger(stream: NodeJS.WritableStream = process.stderr, fields: Record<string, unknown> = {}, minLevel: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const write = (level: keyof typeof order, msg: string, f?: Record<string, unknown>): void => {
    if (order[level] < order[minLevel]) return;
    stream.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields, ...f }) + '\n');
  };
  return { debug: (m, f) => write('debug', m, f), info: (m, f) => write('info', m, f), warn: (m, f) => write('warn', m, f), error: (m, f) => write('error', m, f) };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Keeps what was logged, for tests and for the report's notes. */
export function memoryLogger(): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
  };
}
