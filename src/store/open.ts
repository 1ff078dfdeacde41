/**
 * Opens the memory store named by a location: a SQLite file path (default `./.tswarm/memory.db`, its directory
 * created), `:memory:` for tests, or a `postgres://` URL for a shared PostgreSQL memory.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { MemoryStore } from './store.js';
import type { SqliteOptions } from './sqlite/index.js';

export const DEFAULT_STORE = './.tswarm/memory.db';

export type OpenOptions = SqliteOptions;

export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

export async function openStore(location: string = DEFAULT_STORE, opts: OpenOptions = {}): Promise<MemoryStore> {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const { openPostgres } = await import('./postgres/index.js');
    try {
      return await openPostgres(location);
    } catch (e) {
      throw new StoreUnavailableError(`cannot open PostgreSQL memory ${location.replace(/\/\/[^@/]*@/, '//***@')}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const { openSqlite } = await import('./sqlite/index.js');
  if (location !== ':memory:') mkdirSync(dirname(resolve(location)), { recursive: true });
  try {
    return openSqlite(location, opts);
  } catch (e) {
    throw new StoreUnavailableError(`cannot open memory store ${location}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
