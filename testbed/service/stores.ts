/**
 * The real stores behind cart (Redis, or SQLite where redis-server is not installed) and catalog (SQLite).
 * Outage and slow-query faults act here, through the real client libraries, so the errors and latencies the
 * services see are the ones a real store failure produces.
 */
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import type { Faults } from './faults.js';

export interface CartItem {
  productId: string;
  quantity: number;
}

export interface CartStore {
  readonly kind: 'redis' | 'sqlite';
  add(user: string, productId: string, quantity: number): Promise<void>;
  get(user: string): Promise<CartItem[]>;
  empty(user: string): Promise<void>;
  /** Drops every cart (testbed reset between recorded cases). */
  flush(): Promise<void>;
  /** Re-reads the fault state (outage on/off). */
  refresh(): void;
  close(): Promise<void>;
}

/** Nothing listens on port 1 of the loopback (a privileged port), so connecting there is refused. */
const UNREACHABLE_PORT = 1;

// A server-side loop that holds Redis for ARGV[1] ms: a slow query blocks the single-threaded store for everyone.
const SLOW_LUA = `local t=redis.call('TIME') local e=t[1]*1000000+t[2]+tonumber(ARGV[1])*1000
while true do local n=redis.call('TIME') if n[1]*1000000+n[2]>=e then break end end return 1`;

export class RedisCartStore implements CartStore {
  readonly kind = 'redis';
  private client: Redis;
  private down = false;

  constructor(
    private readonly url: URL,
    private readonly faults: Faults,
  ) {
    this.client = this.connect(Number(url.port));
  }

  private connect(port: number): Redis {
    const c = new Redis({
      host: this.url.hostname,
      port,
      commandTimeout: 1000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      retryStrategy: () => 250,
      lazyConnect: false,
    });
    // connection errors surface on the commands; the 'error' event only needs a listener
    c.on('error', () => undefined);
    return c;
  }

  refresh(): void {
    const want = this.faults.active('outage') !== undefined;
    if (want === this.down) return;
    this.down = want;
    this.client.disconnect(false);
    this.client = this.connect(want ? UNREACHABLE_PORT : Number(this.url.port));
  }

  private async maybeSlow(): Promise<void> {
    if (this.faults.active('slowquery')) await this.client.eval(SLOW_LUA, 0, String(this.faults.num('slowquery', 'ms', 300)));
  }

  async add(user: string, productId: string, quantity: number): Promise<void> {
    await this.maybeSlow();
    await this.client.hincrby(`cart:${user}`, productId, quantity);
    await this.client.expire(`cart:${user}`, 3600);
  }

  async get(user: string): Promise<CartItem[]> {
    await this.maybeSlow();
    const h = await this.client.hgetall(`cart:${user}`);
    return Object.entries(h).map(([productId, q]) => ({ productId, quantity: Number(q) }));
  }

  async empty(user: string): Promise<void> {
    await this.client.del(`cart:${user}`);
  }

  async flush(): Promise<void> {
    // after an outage the client reconnects in the background; a reset must wait for it, requests need not
    if (this.client.status !== 'ready') {
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, 3000);
        this.client.once('ready', () => {
          clearTimeout(t);
          ok();
        });
      });
    }
    await this.client.flushdb();
  }

  async close(): Promise<void> {
    this.client.disconnect(false);
  }
}

function calibrate(db: Database.Database): number {
  const n = 200_000;
  const t0 = performance.now();
  db.prepare('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c').get(n);
  return n / Math.max(1, performance.now() - t0);
}

/**
 * The worker's code, evaluated in the thread (not a module file) so that it runs the same from source (tsx) and
 * from dist/: it opens its own connection and runs the slow query the parent sizes.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
const stmt = db.prepare('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c');
parentPort.on('message', (m) => {
  try { stmt.get(m.rows); parentPort.postMessage({ id: m.id }); }
  catch (e) { parentPort.postMessage({ id: m.id, error: String(e && e.message) }); }
});`;
const SQLITE_DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Two worker-thread connections that run a recursive CTE sized to take about `ms`: a genuinely slow query, run off
 * the event loop the way a database server would, so the service gets slow and queued (a small connection pool)
 * without freezing its admin API.
 */
class SlowQueryPool {
  private workers: Worker[] = [];
  private idle: Worker[] = [];
  private waiting: ((w: Worker) => void)[] = [];
  private seq = 0;
  constructor(private readonly path: string) {}

  private acquire(): Promise<Worker> {
    if (this.workers.length < 2) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, driver: SQLITE_DRIVER } });
      w.unref();
      this.workers.push(w);
      return Promise.resolve(w);
    }
    const w = this.idle.pop();
    if (w) return Promise.resolve(w);
    return new Promise((ok) => this.waiting.push(ok));
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  async run(rows: number): Promise<void> {
    const w = await this.acquire();
    const id = ++this.seq;
    try {
      await new Promise<void>((ok, fail) => {
        const on = (m: { id: number; error?: string }) => {
          if (m.id !== id) return;
          w.off('message', on);
          if (m.error) fail(new Error(m.error));
          else ok();
        };
        w.on('message', on);
        w.postMessage({ id, rows });
      });
    } finally {
      this.release(w);
    }
  }

  close(): void {
    for (const w of this.workers) void w.terminate();
    this.workers = [];
    this.idle = [];
  }
}

/**
 * A SQLite database that "goes away" during an outage: the handle is closed and reopening points at a path
 * whose directory does not exist, so every query fails with SQLite's own "unable to open database file".
 */
class SqliteHandle {
  private db?: Database.Database;
  private rowsPerMs = 0;
  private pool?: SlowQueryPool;
  constructor(
    private readonly path: string,
    private readonly faults: Faults,
    private readonly init: (db: Database.Database) => void,
  ) {}

  async get(): Promise<Database.Database> {
    const out = this.faults.active('outage') !== undefined;
    if (out) {
      this.db?.close();
      this.db = undefined;
      return new Database(join(this.path, '..', 'unreachable-volume', 'store.db'), { fileMustExist: true });
    }
    if (!this.db) {
      this.db = new Database(this.path);
      this.db.pragma('journal_mode = WAL');
      this.init(this.db);
      if (this.rowsPerMs === 0) this.rowsPerMs = calibrate(this.db);
    }
    if (this.faults.active('slowquery')) {
      this.pool ??= new SlowQueryPool(this.path);
      await this.pool.run(Math.max(1, Math.round(this.rowsPerMs * this.faults.num('slowquery', 'ms', 300))));
    }
    return this.db;
  }

  close(): void {
    this.pool?.close();
    this.db?.close();
    this.db = undefined;
  }
}

export class SqliteCartStore implements CartStore {
  readonly kind = 'sqlite';
  private readonly h: SqliteHandle;
  constructor(dir: string, faults: Faults) {
    this.h = new SqliteHandle(join(dir, 'cart.db'), faults, (db) =>
      db.exec('CREATE TABLE IF NOT EXISTS cart (user TEXT NOT NULL, product TEXT NOT NULL, qty INTEGER NOT NULL, PRIMARY KEY (user, product))'),
    );
  }
  refresh(): void {}
  async add(user: string, productId: string, quantity: number): Promise<void> {
    (await this.h.get()).prepare('INSERT INTO cart (user, product, qty) VALUES (?, ?, ?) ON CONFLICT (user, product) DO UPDATE SET qty = qty + excluded.qty').run(user, productId, quantity);
  }
  async get(user: string): Promise<CartItem[]> {
    const rows = (await this.h.get()).prepare('SELECT product, qty FROM cart WHERE user = ? ORDER BY product').all(user) as { product: string; qty: number }[];
    return rows.map((r) => ({ productId: r.product, quantity: r.qty }));
  }
  async empty(user: string): Promise<void> {
    (await this.h.get()).prepare('DELETE FROM cart WHERE user = ?').run(user);
  }
  async flush(): Promise<void> {
    (await this.h.get()).exec('DELETE FROM cart');
  }
  async close(): Promise<void> {
    this.h.close();
  }
}

export interface Product {
  id: string;
  name: string;
  description: string;
  priceUsd: number;
  categories: string[];
}

const PRODUCT_NAMES = [
  'Vintage Typewriter', 'Film Camera', 'Terrarium', 'Vintage Record Player', 'Metal Camping Mug', 'City Bike',
  'Air Plant', 'Sunglasses', 'Tank Top', 'Watch', 'Loafers', 'Hairdryer', 'Candle Holder', 'Salt & Pepper Shakers',
  'Bamboo Glass Jar', 'Mug', 'Roof Tent', 'Solar Lantern', 'Hiking Boots', 'Trail Map', 'Pocket Knife', 'Espresso Maker',
  'Desk Lamp', 'Notebook',
];
const CATEGORIES = ['vintage', 'photography', 'garden', 'kitchen', 'outdoor', 'clothing', 'accessories', 'home'];

export class CatalogStore {
  private readonly h: SqliteHandle;
  constructor(dir: string, faults: Faults) {
    this.h = new SqliteHandle(join(dir, 'catalog.db'), faults, (db) => {
      db.exec('CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, name TEXT, description TEXT, price_cents INTEGER, categories TEXT)');
      const n = (db.prepare('SELECT count(*) AS n FROM products').get() as { n: number }).n;
      if (n > 0) return;
      const ins = db.prepare('INSERT INTO products VALUES (?, ?, ?, ?, ?)');
      db.transaction(() => {
        PRODUCT_NAMES.forEach((name, i) => {
          const cats = [CATEGORIES[i % CATEGORIES.length], CATEGORIES[(i * 3 + 1) % CATEGORIES.length]];
          ins.run(`P${String(i + 1).padStart(3, '0')}`, name, `A fine ${name.toLowerCase()}`, 499 + ((i * 7919) % 20000), cats.join(','));
        });
      })();
    });
  }

  async list(): Promise<Product[]> {
    const rows = (await this.h.get()).prepare('SELECT * FROM products ORDER BY id').all() as ProductRow[];
    return rows.map(toProduct);
  }

  async get(id: string): Promise<Product | undefined> {
    const row = (await this.h.get()).prepare('SELECT * FROM products WHERE id = ?').get(id) as ProductRow | undefined;
    return row ? toProduct(row) : undefined;
  }

  close(): void {
    this.h.close();
  }
}

interface ProductRow {
  id: string;
  name: string;
  description: string;
  price_cents: number;
  categories: string;
}

function toProduct(r: ProductRow): Product {
  return { id: r.id, name: r.name, description: r.description, priceUsd: r.price_cents / 100, categories: r.categories.split(',') };
}

export const PRODUCT_IDS: readonly string[] = PRODUCT_NAMES.map((_, i) => `P${String(i + 1).padStart(3, '0')}`);
