/** Opening the memory store from the CLI, with errors that say what to do. */
import { existsSync } from 'node:fs';
import type { MemoryStore } from '../../store/store.js';
import { CliError } from './util.js';
import { describeHousekeepingFailure } from '../../store/housekeeping.js';

/** Opens a store that must already exist (read-mostly commands): a missing file is a user error, not a new DB. */
export async function openExistingStore(location: string): Promise<MemoryStore> {
  if (!/^postgres(ql)?:\/\//.test(location) && location !== ':memory:' && !existsSync(location)) {
    throw new CliError(`no memory store at ${location} (run \`tswarm serve\` or \`tswarm ingest\` first, or pass --db)`, 2);
  }
  const { openStore } = await import('../../store/open.js');
  return openStore(location);
}

/** Opens (or creates) a store to write to; its housekeeping failures are warnings on stderr (the data is kept). */
export async function openOrCreateStore(location: string): Promise<MemoryStore> {
  const { openStore } = await import('../../store/open.js');
  const store = await openStore(location);
  store.telemetry.onHousekeepingFailure((f) => process.stderr.write(`warning: ${describeHousekeepingFailure(f)}\n`));
  return store;
}
