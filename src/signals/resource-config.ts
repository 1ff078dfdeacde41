/**
 * Which resource attributes say what configuration a process runs with: keys naming a config or feature-flag set
 * (`app.config.version`, `config.hash`, `feature_flag.set`, `flags.revision`). A new value of one of them is a
 * config change, which the performance tester ties regressions to and the root-cause analyzer counts as direct
 * evidence, as it does a deploy (a new service.version).
 */
import type { Attributes } from './model.js';

export const CONFIG_ATTRIBUTE = /(^|[._-])(config|configuration|feature[._-]?flags?|flags?)([._-]|$)/i;

/** The config attributes of a resource as one comparable string (`key=value`, sorted, `; `-joined), or undefined. */
export function configSignature(attributes: Attributes): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(attributes)) if (CONFIG_ATTRIBUTE.test(k) && (typeof v === 'string' || typeof v === 'number')) parts.push(`${k}=${v}`);
  return parts.length ? parts.sort().join('; ') : undefined;
}

/** The attributes two signatures differ in: each key with its new value and the one it replaced. */
export function signatureChanges(previous: string | undefined, next: string): { key: string; value: string; previous?: string }[] {
  // A bare key (no `=`): a change whose new value was not said (one a service announced in its log).
  const parse = (s: string | undefined): Map<string, string> => new Map((s ? s.split('; ') : []).map((kv) => (kv.includes('=') ? [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] : [kv, '']) as [string, string]));
  const a = parse(previous);
  const out: { key: string; value: string; previous?: string }[] = [];
  for (const [k, v] of parse(next)) if (a.get(k) !== v) out.push({ key: k, value: v, ...(a.has(k) ? { previous: a.get(k)! } : {}) });
  return out;
}
