/**
 * Stack traces → frames, and the error fingerprint. Parses V8/Node (`    at fn (file:line:col)`), Python
 * tracebacks (`  File "x.py", line 3, in fn`) and Java/JVM (`\tat pkg.Cls.method(File.java:42)`), innermost
 * frame first as the model requires. In-app means not in node_modules, site-packages, node: internals or the
 * runtime.
 */
import type { ErrorEvent, StackFrame } from './model.js';
import { errorFingerprint } from '../algorithms/errors/grouping.js';

const V8_AT = /^\s*at (?:(new )?(.+?) \()?(?:(.+?):(\d+):(\d+)|(native|<anonymous>|unknown location))\)?\s*$/;
const PY_FRAME = /^\s*File "(.+?)", line (\d+)(?:, in (.+))?\s*$/;
const JAVA_AT = /^\s*at ([\w$.<>/]+)\.([\w$<>]+)\((?:(.+?):(\d+)|Native Method|Unknown Source)\)\s*$/;

function inApp(file: string | undefined): boolean {
  if (!file) return false;
  return !/(^|[\\/])node_modules[\\/]|^node:|^internal[\\/]|site-packages|dist-packages|^<|^java\.|^jdk\.|^sun\./.test(file);
}

function cleanFile(file: string): string {
  return file.replace(/^file:\/\//, '');
}

export function parseStack(stack: string | undefined): StackFrame[] {
  if (!stack) return [];
  const lines = stack.split(/\r?\n/).slice(0, 200);
  const v8: StackFrame[] = [];
  const py: StackFrame[] = [];
  const java: StackFrame[] = [];
  for (const line of lines) {
    let m = V8_AT.exec(line);
    if (m) {
      const file = m[3] ? cleanFile(m[3]) : undefined;
      const f: StackFrame = { inApp: inApp(file) };
      if (file) f.file = file;
      if (m[4]) f.line = Number(m[4]);
      if (m[5]) f.column = Number(m[5]);
      if (m[2]) f.function = (m[1] ?? '') + m[2];
      v8.push(f);
      continue;
    }
    m = PY_FRAME.exec(line);
    if (m) {
      py.push({ file: m[1]!, line: Number(m[2]), ...(m[3] ? { function: m[3] } : {}), inApp: inApp(m[1]) });
      continue;
    }
    m = JAVA_AT.exec(line);
    if (m) {
      const cls = m[1]!;
      java.push({ function: `${cls}.${m[2]}`, module: cls, ...(m[3] ? { file: m[3], line: Number(m[4]) } : {}), inApp: inApp(cls) });
    }
  }
  // Python prints the innermost frame last; the model wants it first.
  if (py.length >= v8.length && py.length >= java.length && py.length) return py.reverse();
  if (java.length > v8.length) return java;
  return v8;
}

/** `TypeError: x is undefined` → type and message, from the first line of a stack or a log body. */
export function splitErrorHeader(text: string): { type?: string; message: string } {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const m = /^\s*(?:Uncaught )?([A-Z][\w$.]*(?:Error|Exception|Fault|Panic|Failure)|Error|[a-z_][\w.]*\.[A-Z]\w*(?:Error|Exception)):\s?(.*)$/.exec(first);
  if (m) return { type: m[1]!, message: m[2] ?? '' };
  return { message: first };
}

export function looksLikeStack(text: string): boolean {
  return /\n\s+at .+(:\d+:\d+\)?|\(native\))/.test(text) || /Traceback \(most recent call last\)/.test(text) || /\n\s+at [\w$.]+\([\w.]+:\d+\)/.test(text);
}

export function makeErrorEvent(e: Omit<ErrorEvent, 'fingerprint' | 'frames'> & { frames?: StackFrame[] }): ErrorEvent {
  const frames = e.frames ?? parseStack(e.rawStack);
  const { fingerprint } = errorFingerprint({ type: e.type, message: e.message, frames });
  return { ...e, frames, fingerprint };
}
