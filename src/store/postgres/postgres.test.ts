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
  storeContract('postgres', async () => {
    const name = `contract_${++db}`;
    const admin = new pg.Client({ connectionString: server!.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return openStore(server!.url.replace(/\/postgres$/, `/${name}`));
  });
} else {
  test('postgres backend', { skip: 'PostgreSQL not installed (apt-get install postgresql)' }, () => {});
}
