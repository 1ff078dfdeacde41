/**
 * The built-in traffic driver: user journeys (browse, add to cart, checkout) against the frontend, in a closed
 * model (N virtual users with think time) or an open model (Poisson journey arrivals at a rate, bounded
 * in-flight). Seeded, so the sequence of journeys and their choices is reproducible.
 */
import { Rng } from './rng.js';
import { PRODUCT_IDS } from './service/stores.js';

export interface TrafficOptions {
  model?: 'closed' | 'open';
  /** Closed model: number of virtual users. */
  users?: number;
  /** Open model: journeys started per second. */
  rate?: number;
  /** Mean think time between requests of a journey (ms). */
  thinkMs?: number;
  seed?: number;
  /** Per-request client timeout (ms): the driver is a patient browser but not an infinite one. */
  timeoutMs?: number;
  /** Open model: journeys in flight beyond this are dropped (and counted). */
  maxInFlight?: number;
}

export interface TrafficStats {
  journeys: number;
  requests: number;
  /** HTTP >= 500, timeouts and transport errors seen by the users. */
  failures: number;
  /** 4xx answers (e.g. declined cards, unknown products): expected, not failures. */
  rejections: number;
  dropped: number;
  byJourney: Record<string, number>;
}

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CAD', 'CHF'];

export class TrafficDriver {
  private running = false;
  private loops: Promise<void>[] = [];
  private inFlight = new Set<Promise<void>>();
  private rng = new Rng(1);
  private opts: Required<TrafficOptions> = { model: 'closed', users: 4, rate: 4, thinkMs: 300, seed: 1, timeoutMs: 15_000, maxInFlight: 200 };
  private stats: TrafficStats = emptyStats();
  private readonly sleepers = new Set<() => void>();

  constructor(private readonly frontendUrl: () => string) {}

  get isRunning(): boolean {
    return this.running;
  }

  snapshot(): TrafficStats {
    return { ...this.stats, byJourney: { ...this.stats.byJourney } };
  }

  start(options: TrafficOptions = {}): void {
    if (this.running) throw new Error('traffic is already running; stop it first');
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TrafficOptions;
    this.opts = { ...this.opts, ...given };
    const o = this.opts;
    if (o.model !== 'closed' && o.model !== 'open') throw new Error(`traffic model must be closed or open, got ${String(o.model)}`);
    if (!(o.users >= 1 && o.users <= 500)) throw new Error(`users must be in [1, 500], got ${o.users}`);
    if (!(o.rate > 0 && o.rate <= 1000)) throw new Error(`rate must be in (0, 1000] journeys/s, got ${o.rate}`);
    this.rng = new Rng(o.seed);
    this.stats = emptyStats();
    this.running = true;
    if (o.model === 'closed') {
      this.loops = Array.from({ length: o.users }, (_, i) => this.userLoop(i, new Rng(o.seed * 7919 + i)));
    } else {
      this.loops = [this.arrivals()];
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const w of [...this.sleepers]) w();
    await Promise.all(this.loops);
    await Promise.all([...this.inFlight]);
    this.loops = [];
  }

  private async userLoop(i: number, rng: Rng): Promise<void> {
    while (this.running) {
      await this.journey(`u-${i}`, rng);
      await this.sleep(rng.exp(this.opts.thinkMs));
    }
  }

  private async arrivals(): Promise<void> {
    let n = 0;
    while (this.running) {
      await this.sleep(this.rng.exp(1000 / this.opts.rate));
      if (!this.running) break;
      if (this.inFlight.size >= this.opts.maxInFlight) {
        this.stats.dropped++;
        continue;
      }
      const rng = new Rng(this.opts.seed * 104729 + n);
      const p = this.journey(`u-${n++ % 1000}`, rng).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((ok) => {
      // stop() wakes sleepers so that it returns promptly
      const wake = () => {
        clearTimeout(t);
        this.sleepers.delete(wake);
        ok();
      };
      const t = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private async journey(user: string, rng: Rng): Promise<void> {
    const r = rng.next();
    const kind = r < 0.5 ? 'browse' : r < 0.8 ? 'add-to-cart' : 'checkout';
    this.stats.journeys++;
    this.stats.byJourney[kind] = (this.stats.byJourney[kind] ?? 0) + 1;
    const cur = rng.chance(0.6) ? 'USD' : rng.pick(CURRENCIES);
    const product = (): string => (rng.chance(0.01) ? 'P999' : rng.pick(PRODUCT_IDS));
    const think = () => this.sleep(rng.exp(this.opts.thinkMs / 2));
    if (kind === 'browse') {
      await this.req('GET', `/api/home?currency=${cur}`);
      const n = rng.int(1, 3);
      for (let i = 0; i < n && this.running; i++) {
        await think();
        await this.req('GET', `/api/product/${product()}?currency=${cur}`);
      }
      return;
    }
    const items = rng.int(1, 3);
    for (let i = 0; i < items && this.running; i++) {
      const id = product();
      const status = await this.req('GET', `/api/product/${id}?currency=${cur}`);
      await think();
      // A user cannot put a product whose page was "not found" into the cart. (Adding it anyway poisoned that
      // user's cart for good: every later checkout failed, and in a closed model all users end up there.)
      if (status === 404) continue;
      await this.req('POST', '/api/cart', { user, productId: id, quantity: rng.int(1, 3) });
    }
    await this.req('GET', `/api/cart?user=${user}&currency=${cur}`);
    if (kind === 'checkout' && this.running) {
      await think();
      await this.req('POST', '/api/checkout', { user, currency: cur, email: `${user}@example.com` });
    }
  }

  /** The HTTP status, or undefined when nothing was sent or the request failed in transport. */
  private async req(method: string, path: string, body?: unknown): Promise<number | undefined> {
    // a stopped driver lets journeys run out without sending more requests, so stop() returns quickly
    if (!this.running) return undefined;
    this.stats.requests++;
    try {
      const res = await fetch(new URL(path, this.frontendUrl()), {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.arrayBuffer();
      if (res.status >= 500) this.stats.failures++;
      else if (res.status >= 400) this.stats.rejections++;
      return res.status;
    } catch {
      this.stats.failures++;
      return undefined;
    }
  }
}

function emptyStats(): TrafficStats {
  return { journeys: 0, requests: 0, failures: 0, rejections: 0, dropped: 0, byJourney: {} };
}
