/**
 * OpenTelemetry wiring for one testbed service: traces, metrics and logs over OTLP/HTTP (JSON) with short export
 * intervals, the official HTTP instrumentation, and process CPU / memory gauges.
 *
 * The providers are wired by hand rather than through NodeSDK so that the export intervals and the resource are
 * explicit, and so that no environment-driven auto-configuration changes what a test measures.
 */
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type * as httpTypes from 'node:http';
import { metrics, type Meter } from '@opentelemetry/api';
import { logs, SeverityNumber, type Logger as OtelLogger } from '@opentelemetry/api-logs';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';

export interface TelemetryOptions {
  service: string;
  version: string;
  instanceId: string;
  /** Base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318; undefined: nothing is exported. */
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  exportIntervalMs: number;
}

export interface Telemetry {
  meter: Meter;
  otelLogger: OtelLogger;
  /** `node:http` loaded after the instrumentation patched it (ESM imports of builtins are not patched). */
  http: typeof httpTypes;
  shutdown(): Promise<void>;
}

const UNTRACED_PATHS = /^\/(admin|metrics|health)(\/|$|\?)/;

export function setupTelemetry(opts: TelemetryOptions): Telemetry {
  // stable HTTP semantic conventions: http.server.request.duration (s), http.request.method, url.path ...
  process.env.OTEL_SEMCONV_STABILITY_OPT_IN ??= 'http';
  const resource = resourceFromAttributes({
    'service.name': opts.service,
    'service.version': opts.version,
    'service.namespace': 'testbed-shop',
    'service.instance.id': opts.instanceId,
    'deployment.environment.name': 'testbed',
    'host.name': 'testbed-local',
    'process.pid': process.pid,
  });
  const ep = opts.otlpEndpoint?.replace(/\/+$/, '');
  const headers = opts.otlpHeaders ?? {};
  const interval = opts.exportIntervalMs;

  const spanProcessors: SpanProcessor[] = ep
    ? [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${ep}/v1/traces`, headers }), { scheduledDelayMillis: Math.min(500, interval), maxQueueSize: 8192, maxExportBatchSize: 1024 })]
    : [];
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  tracerProvider.register();

  const meterProvider = new MeterProvider({
    resource,
    readers: ep
      ? [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter({ url: `${ep}/v1/metrics`, headers }), exportIntervalMillis: interval, exportTimeoutMillis: Math.max(500, interval - 100) })]
      : [],
  });
  metrics.setGlobalMeterProvider(meterProvider);

  const loggerProvider = new LoggerProvider({
    resource,
    processors: ep ? [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${ep}/v1/logs`, headers }), scheduledDelayMillis: Math.min(500, interval), maxQueueSize: 8192 })] : [],
  });
  logs.setGlobalLoggerProvider(loggerProvider);

  registerInstrumentations({
    tracerProvider,
    meterProvider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? ''),
        // the OTLP exporters' own requests must not be traced (they would trace themselves forever)
        ignoreOutgoingRequestHook: (req) => typeof req.path === 'string' && req.path.startsWith('/v1/'),
      }),
    ],
  });
  const require = createRequire(import.meta.url);
  const http = require('node:http') as typeof httpTypes;

  const meter = metrics.getMeter('testbed-shop', opts.version);
  registerProcessGauges(meter);

  return {
    meter,
    otelLogger: logs.getLogger('testbed-shop', opts.version),
    http,
    async shutdown() {
      const bounded = (p: Promise<unknown>) => Promise.race([p.catch(() => undefined), new Promise((ok) => setTimeout(ok, 2000).unref())]);
      await Promise.all([bounded(tracerProvider.shutdown()), bounded(meterProvider.shutdown()), bounded(loggerProvider.shutdown())]);
    },
  };
}

/** Process CPU and memory as gauges (the `cpu` / `mem` columns of an incident case come from these). */
function registerProcessGauges(meter: Meter): void {
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  meter.createObservableGauge('process.cpu.utilization', { unit: '1', description: 'CPU time / wall time since the last observation (1 = one core)' }).addCallback((r) => {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const wallUs = Number(now - lastAt) / 1000;
    const usedUs = cpu.user - lastCpu.user + (cpu.system - lastCpu.system);
    lastCpu = cpu;
    lastAt = now;
    if (wallUs > 0) r.observe(usedUs / wallUs);
  });
  meter.createObservableGauge('process.memory.usage', { unit: 'By', description: 'resident set size' }).addCallback((r) => {
    r.observe(process.memoryUsage().rss);
  });
  meter.createObservableGauge('nodejs.eventloop.delay.p99', { unit: 's' }).addCallback((r) => {
    r.observe(loop.percentile(99) / 1e9);
    loop.reset();
  });
}

export { SeverityNumber };
