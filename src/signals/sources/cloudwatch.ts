/**
 * `cloudwatch://<log-group>?region=eu-west-1&range=1h&filter=ERROR` → log records, with CloudWatch Logs'
 * FilterLogEvents through the AWS SDK v3 client (credentials and region from the standard AWS chain; `endpoint=`
 * for a local or VPC endpoint). Pages through `nextToken`; the stream name becomes the service when the log
 * group holds several.
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { MemoryStore } from '../../store/store.js';
import type { ErrorEvent, LogRecord } from '../model.js';
import { looksLikeStack, makeErrorEvent, splitErrorHeader } from '../errors.js';
import { severityOf } from './file/plain-log.js';
import { rangeOf, SourceError } from './http.js';

export async function pull(u: URL, store: MemoryStore): Promise<string> {
  const group = decodeURIComponent(u.hostname + u.pathname).replace(/\/$/, '');
  if (!group) throw new SourceError('cloudwatch:// needs a log group, e.g. cloudwatch://app-logs?region=eu-west-1');
  const display = `cloudwatch://${group}`;
  const region = u.searchParams.get('region') ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new SourceError(`${display}: no region (add ?region=… or set AWS_REGION)`);
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  const { fromS, toS } = rangeOf(u.searchParams);
  const client = new CloudWatchLogsClient({ region, ...(endpoint ? { endpoint } : {}), maxAttempts: 3 });
  const service = u.searchParams.get('service') ?? group.split('/').pop() ?? group;
  let nextToken: string | undefined;
  let pages = 0;
  let logs = 0;
  let errors = 0;
  try {
    do {
      const r = await client.send(new FilterLogEventsCommand({ logGroupName: group, startTime: Math.floor(fromS * 1000), endTime: Math.ceil(toS * 1000), ...(u.searchParams.get('filter') ? { filterPattern: u.searchParams.get('filter')! } : {}), ...(nextToken ? { nextToken } : {}) }));
      const batch: LogRecord[] = [];
      const errs: ErrorEvent[] = [];
      for (const e of r.events ?? []) {
        const message = e.message ?? '';
        const sev = severityOf(message);
        const svc = u.searchParams.get('service') ? service : (e.logStreamName?.split('/')[0] ?? service);
        const resource = { attributes: { 'service.name': svc, 'aws.log.group.names': group } };
        const rec: LogRecord = { timeUs: (e.timestamp ?? Date.now()) * 1000, service: svc, severityNumber: sev?.number ?? 9, body: message, attributes: { 'aws.log.stream.names': e.logStreamName ?? '' }, resource };
        if (sev?.text) rec.severityText = sev.text;
        batch.push(rec);
        if (rec.severityNumber >= 17 && looksLikeStack(message)) {
          const h = splitErrorHeader(message.split('\n').find((l) => /(Error|Exception)\b/.test(l)) ?? message);
          errs.push(makeErrorEvent({ timeUs: rec.timeUs, service: svc, type: h.type ?? 'Error', message: h.message, rawStack: message, source: 'log', attributes: {}, resource }));
        }
      }
      const res = await store.telemetry.ingest({ spans: [], logs: batch, metrics: [], errors: errs });
      logs += res.logs;
      errors += res.errors;
      nextToken = r.nextToken;
      pages++;
    } while (nextToken && pages < 1000);
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const name = (e as { name?: string }).name ?? '';
    const msg = (e as Error).message.split('\n')[0];
    if (/Credential|UnrecognizedClient|AccessDenied|InvalidSignature/i.test(name + msg)) throw new SourceError(`${display}: authentication failed (${name || msg})`);
    throw new SourceError(`${display}: ${/ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket/i.test(msg) ? 'unreachable' : 'query failed'} (${msg})`);
  } finally {
    client.destroy();
  }
  return `${logs} log events and ${errors} errors from ${pages} page(s) (${display})`;
}
