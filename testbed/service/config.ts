/** What the supervisor tells a service process at spawn time (JSON in the TESTBED_SERVICE_CONFIG variable). */
import type { FaultParams, ServiceName } from '../catalog.js';
import type { LogStyle } from './log.js';

export interface ServiceConfig {
  service: ServiceName;
  host: string;
  port: number;
  version: string;
  instanceId: string;
  otlpEndpoint?: string;
  otlpHeaders?: Record<string, string>;
  exportIntervalMs: number;
  peers: Partial<Record<ServiceName, string>>;
  /** redis://127.0.0.1:PORT for the cart; absent: the cart uses SQLite in dataDir. */
  redisUrl?: string;
  dataDir: string;
  faults: { fault: string; params?: FaultParams }[];
  seed: number;
  /** The process exits by itself after this long, whatever happens to its parent. */
  maxLifetimeMs: number;
  logStyle: LogStyle;
}

export const CONFIG_ENV = 'TESTBED_SERVICE_CONFIG';

/** IPC messages from a service to its supervisor. */
export type ServiceMessage =
  | { type: 'ready'; service: ServiceName; port: number; version: string }
  | { type: 'redeploy'; service: ServiceName; params: FaultParams };
