/** The PostgreSQL backend passes the same store contract as SQLite, against a real PostgreSQL server. */
import { after, before, test } from 'node:test';
import pg from 'pg';
import { storeContract } from '../contract.js';
import { openStore } from '../open.js';
import { postgresBin, startPostgres } from '../../../test/helpers/postgres.js';

const available = Boolean(postgresBin());
let server: { url: string; stop(): void } | undefined;
let db = 0;

if (available) {
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());
  // Each contract test gets a fresh database, as `:memory:` gives SQLite a fresh file.
  let lastUrl = '';
  const sql = async (text: string): Promise<void> => {
    const c = new pg.Client({ connectionString: lastUrl });
    await c.connect();
    try {
      await c.query(text);
    } finally {
      await c.end();
    }
  };
  storeContract('postgres', async () => {
    const name = `contract_${++db}`;
    const admin = new pg.Client({ connectionString: server!.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    lastUrl = server!.url.replace(/\/postgres$/, `/${name}`);
    return openStore(lastUrl);
  }, {
    // A trigger refusing deletes from the rollup table: compaction fails as on a full disk, ingest (upserts) works.
    async breakCompaction() {
      await sql(`CREATE FUNCTION refuse_compaction() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'deletes refused by the test'; END $$;
                 CREATE TRIGGER refuse_compaction BEFORE DELETE ON rollups FOR EACH ROW EXECUTE FUNCTION refuse_compaction()`);
      return () => sql('DROP TRIGGER refuse_compaction ON rollups');
    },
  });
} else {
  test('postgres backend', { skip: 'PostgreSQL not installed (apt-get install postgresql)' }, () => {});
}
