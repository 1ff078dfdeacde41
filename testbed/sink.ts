/**
 * The default telemetry sink for recording: the swarm's own OTLP/HTTP receiver storing into a memory db. Loaded
 * lazily so that the shop itself (and `tswarm testbed up`) does not depend on the receiver.
 */
import type { MemoryStore } from '../src/store/store.js';
import type { TelemetrySink } from './record.js';

interface ReceiverModule {
  startReceiver(o: { host: string; port: number; store: MemoryStore; token?: string; bodyLimitBytes?: number }): Promise<{ port: number; url: string; close(): Promise<void> }>;
}
interface StoreModule {
  openStore(path: string): MemoryStore | Promise<MemoryStore>;
}

// Specifiers in variables: the receiver and store are written concurrently by other engineers; resolving them at
// run time keeps this file compiling before they land (the interfaces above are their announced contracts).
const RECEIVER = '../src/signals/otlp/server.js';
const STORE = '../src/store/open.js';

export async function openReceiverSink(dbPath: string, port: number): Promise<TelemetrySink> {
  const { openStore } = (await import(STORE)) as StoreModule;
  const { startReceiver } = (await import(RECEIVER)) as ReceiverModule;
  const store = await openStore(dbPath);
  try {
    const rx = await startReceiver({ host: '127.0.0.1', port, store, bodyLimitBytes: 64 * 1024 * 1024 });
    return {
      url: rx.url,
      store,
      async close() {
        await rx.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
