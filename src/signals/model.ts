/**
 * The signal model: the four production signals (logs, metrics, traces, errors) as the rest of the swarm sees
 * them. It follows the OpenTelemetry data model (OTLP) and semantic conventions, with two deliberate choices:
 *
 * - Times are integer **microseconds** since the Unix epoch (`...Us`). OTLP carries nanoseconds, which do not fit
 *   a JS number exactly; microseconds do (2^53 µs is year 2255) and every analysis here works at that precision
 *   or coarser. Sub-microsecond digits are the only thing dropped on the way in.
 * - The service name (`resource["service.name"]`) is denormalised onto each record as `service`, because every
 *   query and every agent groups by it.
 */

/** An OTLP AnyValue. Bytes arrive as base64 strings. */
export type AttrValue = string | number | boolean | null | AttrValue[] | { [key: string]: AttrValue };
export type Attributes = Record<string, AttrValue>;

/** Well-known resource attribute keys (OTel semantic conventions). */
export const RESOURCE_KEYS = {
  serviceName: 'service.name',
  serviceVersion: 'service.version',
  serviceNamespace: 'service.namespace',
  serviceInstanceId: 'service.instance.id',
  deploymentEnvironment: 'deployment.environment',
  deploymentEnvironmentName: 'deployment.environment.name',
  hostName: 'host.name',
  podName: 'k8s.pod.name',
} as const;

export const UNKNOWN_SERVICE = 'unknown_service';

export interface Resource {
  attributes: Attributes;
  droppedAttributesCount?: number;
}

export interface InstrumentationScope {
  name: string;
  version?: string;
  attributes?: Attributes;
}

/** OTel SeverityNumber ranges: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL. */
export type SeverityNumber = number;

export interface LogRecord {
  timeUs: number;
  observedTimeUs?: number;
  service: string;
  severityNumber: SeverityNumber;
  severityText?: string;
  /** The body as text; structured bodies are kept in `bodyValue` and rendered to JSON text here. */
  body: string;
  bodyValue?: AttrValue;
  attributes: Attributes;
  traceId?: string;
  spanId?: string;
  flags?: number;
  eventName?: string;
  resource: Resource;
  scope?: InstrumentationScope;
  droppedAttributesCount?: number;
}

/** OTel SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export type SpanKind = 0 | 1 | 2 | 3 | 4 | 5;
/** OTel StatusCode: 0 unset, 1 ok, 2 error. */
export type StatusCode = 0 | 1 | 2;

export interface SpanEvent {
  timeUs: number;
  name: string;
  attributes: Attributes;
  droppedAttributesCount?: number;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState?: string;
  attributes: Attributes;
  flags?: number;
}

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  name: string;
  kind: SpanKind;
  startUs: number;
  endUs: number;
  service: string;
  attributes: Attributes;
  events: SpanEvent[];
  links: SpanLink[];
  status: { code: StatusCode; message?: string };
  resource: Resource;
  scope?: InstrumentationScope;
  droppedAttributesCount?: number;
  droppedEventsCount?: number;
  droppedLinksCount?: number;
}

export type AggregationTemporality = 'unspecified' | 'delta' | 'cumulative';

export interface Exemplar {
  timeUs: number;
  value: number;
  traceId?: string;
  spanId?: string;
  filteredAttributes?: Attributes;
}

interface MetricPointBase {
  /** Metric name, e.g. `http.server.request.duration`. */
  name: string;
  description?: string;
  unit?: string;
  service: string;
  attributes: Attributes;
  startTimeUs?: number;
  timeUs: number;
  resource: Resource;
  scope?: InstrumentationScope;
  exemplars?: Exemplar[];
  flags?: number;
}

export interface GaugePoint extends MetricPointBase {
  type: 'gauge';
  value: number;
}

export interface SumPoint extends MetricPointBase {
  type: 'sum';
  value: number;
  monotonic: boolean;
  temporality: AggregationTemporality;
}

export interface HistogramPoint extends MetricPointBase {
  type: 'histogram';
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  /** Explicit upper bounds; `bucketCounts.length === explicitBounds.length + 1`. */
  explicitBounds: number[];
  bucketCounts: number[];
  temporality: AggregationTemporality;
}

export interface ExponentialBuckets {
  offset: number;
  bucketCounts: number[];
}

export interface ExponentialHistogramPoint extends MetricPointBase {
  type: 'exponential_histogram';
  count: number;
  sum?: number;
  min?: number;
  max?: number;
  scale: number;
  zeroCount: number;
  zeroThreshold?: number;
  positive: ExponentialBuckets;
  negative: ExponentialBuckets;
  temporality: AggregationTemporality;
}

export interface SummaryPoint extends MetricPointBase {
  type: 'summary';
  count: number;
  sum: number;
  quantiles: { quantile: number; value: number }[];
}

export type MetricPoint = GaugePoint | SumPoint | HistogramPoint | ExponentialHistogramPoint | SummaryPoint;

export interface StackFrame {
  file?: string;
  line?: number;
  column?: number;
  function?: string;
  module?: string;
  /** False for frames in node_modules, node: internals and runtime code. */
  inApp: boolean;
}

export type ErrorSource = 'span' | 'log' | 'sentry' | 'file';

/** An error occurrence: an exception recorded on a span, an error log with a stack trace, or a Sentry-style event. */
export interface ErrorEvent {
  timeUs: number;
  service: string;
  type: string;
  message: string;
  /** Innermost frame first (the frame that threw), as in a Node.js stack trace. */
  frames: StackFrame[];
  rawStack?: string;
  /** Groups occurrences of the same error: type + normalised message + top in-app frames. */
  fingerprint: string;
  traceId?: string;
  spanId?: string;
  /** `service.version` of the emitting resource. */
  release?: string;
  environment?: string;
  source: ErrorSource;
  attributes: Attributes;
  resource: Resource;
}

/** One unit of ingestion: what one OTLP request or one file chunk carries. Stored atomically. */
export interface SignalBatch {
  spans: Span[];
  logs: LogRecord[];
  metrics: MetricPoint[];
  errors: ErrorEvent[];
}

export function emptyBatch(): SignalBatch {
  return { spans: [], logs: [], metrics: [], errors: [] };
}

export function serviceOf(resource: Resource | undefined): string {
  const name = resource?.attributes[RESOURCE_KEYS.serviceName];
  return typeof name === 'string' && name.length > 0 ? name : UNKNOWN_SERVICE;
}

export function releaseOf(resource: Resource | undefined): string | undefined {
  const v = resource?.attributes[RESOURCE_KEYS.serviceVersion];
  return typeof v === 'string' ? v : undefined;
}

export function environmentOf(resource: Resource | undefined): string | undefined {
  const a = resource?.attributes;
  const v = a?.[RESOURCE_KEYS.deploymentEnvironmentName] ?? a?.[RESOURCE_KEYS.deploymentEnvironment];
  return typeof v === 'string' ? v : undefined;
}

export function isErrorSeverity(severityNumber: SeverityNumber): boolean {
  return severityNumber >= 17;
}

export function spanDurationUs(span: Pick<Span, 'startUs' | 'endUs'>): number {
  return span.endUs - span.startUs;
}

/** Microseconds <-> other units, kept in one place so nobody mixes them up. */
export const time = {
  usFromMs: (ms: number): number => Math.round(ms * 1000),
  msFromUs: (us: number): number => us / 1000,
  usFromSeconds: (s: number): number => Math.round(s * 1_000_000),
  nowUs: (): number => Date.now() * 1000,
};
