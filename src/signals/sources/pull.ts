/**
 * Pull sources by URL scheme, as the seed writes them: file://, prometheus://, jaeger://, loki://, cloudwatch://.
 * Each pulls a window of telemetry into memory and says what it did. Schemes whose backend is not configured or
 * not reachable fail with a message naming the URL and the reason; callers report it and go on.
 */
import { fileURLToPath } from 'node:url';
import type { MemoryStore } from '../../store/store.js';

import { SourceError } from './http.js';

export { SourceError };

export async function pullSource(url: string, store: MemoryStore): Promise<string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SourceError(`"${url}" is not a source URL (e.g. file:///var/log/app.log, prometheus://host:9090)`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (scheme === 'file') {
    const { ingestPaths } = await import('./file/ingest.js');
    const r = await ingestPaths([fileURLToPath(u)], store);
    return `${r.files} file(s): ${r.spans} spans, ${r.logs} logs, ${r.metrics} metric points, ${r.errors} errors`;
  }
  const known = ['prometheus', 'jaeger', 'loki', 'cloudwatch', 'otlp'];
  // otlp:// names what the receiver already got: it is in memory, nothing to pull.
  if (scheme === 'otlp') return `otlp:// — the receiver's telemetry is already in memory (${(await store.telemetry.stats()).reduce((a, s) => a + s.spans + s.logs + s.metrics, 0)} items)`;
  if (scheme === 'prometheus') return (await import('./prometheus.js')).pull(u, store);
  if (scheme === 'jaeger') return (await import('./jaeger.js')).pull(u, store);
  if (scheme === 'loki') return (await import('./loki.js')).pull(u, store);
  if (scheme === 'cloudwatch') return (await import('./cloudwatch.js')).pull(u, store);
  throw new SourceError(`unknown source scheme "${scheme}://" in ${url} (known: file, ${known.join(', ')})`);
}
