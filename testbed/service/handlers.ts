/**
 * The shop's business logic, one route table per service. Callers consume their callees' responses field by
 * field, the way real code does, so a callee's wrong return value (the `bug` fault) breaks the caller with a real
 * TypeError on a real line; the `exception` fault feeds a real code path an input it cannot handle.
 */
import type { ServiceName } from '../catalog.js';
import type { Rng } from '../rng.js';
import type { AppLogger } from './log.js';
import type { Faults } from './faults.js';
import type { CartItem, CartStore, CatalogStore, Product } from './stores.js';
import { HttpError, type Route, type Upstream } from './web.js';
import * as defects from './defects.js';

export interface Deps {
  service: ServiceName;
  up: Upstream;
  log: AppLogger;
  faults: Faults;
  rng: Rng;
  cart?: CartStore;
  catalog?: CatalogStore;
}

interface CartView {
  userId: string;
  items: CartItem[];
}
interface Converted {
  currency: string;
  amounts: number[];
}
interface Quote {
  cost: { currency: string; amount: number };
  etaDays: number;
}
interface Charge {
  transactionId: string;
  status: string;
}
interface Recs {
  productIds: string[];
}

const RATES: Record<string, { rate: number; symbol: string }> = {
  USD: { rate: 1, symbol: '$' },
  EUR: { rate: 0.92, symbol: '€' },
  GBP: { rate: 0.79, symbol: '£' },
  JPY: { rate: 151.3, symbol: '¥' },
  CAD: { rate: 1.36, symbol: 'C$' },
  CHF: { rate: 0.9, symbol: 'Fr' },
};

function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw new HttpError(400, `${name} must be a non-empty string`);
  return v;
}
function obj(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'request body must be a JSON object');
  return v as Record<string, unknown>;
}
function currencyParam(q: URLSearchParams): string {
  const c = (q.get('currency') ?? 'USD').toUpperCase();
  if (!(c in RATES)) throw new HttpError(400, `unsupported currency ${c}`);
  return c;
}
/** Checkout's guard against corrupt money values reaching payment. */
function assertMoney(x: number, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new TypeError(`${what} is not a valid amount: ${String(x)}`);
  return Math.round(x * 100) / 100;
}

export function routesFor(d: Deps): Route[] {
  switch (d.service) {
    case 'frontend':
      return frontend(d);
    case 'checkout':
      return checkout(d);
    case 'cart':
      return cart(d);
    case 'payment':
      return payment(d);
    case 'shipping':
      return shipping(d);
    case 'currency':
      return currency(d);
    case 'email':
      return email(d);
    case 'catalog':
      return catalog(d);
    case 'recommendation':
      return recommendation(d);
  }
}

function frontend(d: Deps): Route[] {
  const { up, log } = d;
  async function recommendations(exclude: string[]): Promise<string[]> {
    let recs: Recs;
    try {
      recs = await up.call<Recs>('recommendation', 'GET', `/recommendations?exclude=${encodeURIComponent(exclude.join(','))}`);
    } catch (e) {
      // graceful degradation: the page renders without recommendations
      log.warn('recommendations unavailable, rendering without them', { reason: (e as Error).message });
      return [];
    }
    return recs.productIds.map((id) => id.trim()).slice(0, 4);
  }
  async function priceLabels(products: Product[], cur: string): Promise<string[]> {
    const usd = products.map((p) => Number(p.priceUsd.toFixed(2)));
    const conv = await up.call<Converted>('currency', 'POST', '/convert', { from: 'USD', to: cur, amounts: usd });
    return conv.amounts.map((a) => `${RATES[cur].symbol}${a.toFixed(2)}`);
  }
  return [
    {
      method: 'GET',
      pattern: '/api/home',
      handler: async ({ query }) => {
        const cur = currencyParam(query);
        if (d.faults.trigger('exception')) defects.parseSessionCookie(defects.truncatedCookie());
        const products = await up.call<Product[]>('catalog', 'GET', '/products');
        const [labels, recs] = await Promise.all([priceLabels(products, cur), recommendations([])]);
        log.info('rendered home page', { products: products.length, currency: cur });
        return { products: products.map((p, i) => ({ id: p.id, name: p.name, price: labels[i] })), recommendations: recs };
      },
    },
    {
      method: 'GET',
      pattern: '/api/product/:id',
      handler: async ({ params, query }) => {
        const cur = currencyParam(query);
        if (d.faults.trigger('exception')) defects.parseSessionCookie(defects.truncatedCookie());
        const p = await up.call<Product>('catalog', 'GET', `/products/${encodeURIComponent(params.id)}`);
        const [labels, recs] = await Promise.all([priceLabels([p], cur), recommendations([p.id])]);
        return { product: { ...p, price: labels[0] }, recommendations: recs };
      },
    },
    {
      method: 'POST',
      pattern: '/api/cart',
      handler: async ({ body }) => {
        const b = obj(body);
        const user = str(b.user, 'user');
        const productId = str(b.productId, 'productId');
        const quantity = Number(b.quantity ?? 1);
        await up.call('cart', 'POST', `/carts/${encodeURIComponent(user)}/items`, { productId, quantity });
        log.info('item added to cart', { user, productId, quantity });
        return { ok: true };
      },
    },
    {
      method: 'GET',
      pattern: '/api/cart',
      handler: async ({ query }) => {
        const user = str(query.get('user'), 'user');
        const cur = currencyParam(query);
        const c = await up.call<CartView>('cart', 'GET', `/carts/${encodeURIComponent(user)}`);
        const products = await Promise.all(c.items.map((it) => up.call<Product>('catalog', 'GET', `/products/${encodeURIComponent(it.productId)}`)));
        const labels = products.length ? await priceLabels(products, cur) : [];
        return { items: c.items.map((it, i) => ({ ...it, name: products[i].name, price: labels[i] })) };
      },
    },
    {
      method: 'POST',
      pattern: '/api/checkout',
      handler: async ({ body }) => {
        const b = obj(body);
        const user = str(b.user, 'user');
        const order = await up.call<{ orderId: string; total: string }>('checkout', 'POST', '/orders', {
          user,
          currency: typeof b.currency === 'string' ? b.currency : 'USD',
          email: typeof b.email === 'string' ? b.email : `${user}@example.com`,
          card: typeof b.card === 'string' ? b.card : '4111111111111111',
        });
        log.info('order placed', { user, orderId: order.orderId, total: order.total });
        return order;
      },
    },
  ];
}

function checkout(d: Deps): Route[] {
  const { up, log } = d;
  return [
    {
      method: 'POST',
      pattern: '/orders',
      handler: async ({ body }) => {
        const b = obj(body);
        const user = str(b.user, 'user');
        const cur = str(b.currency, 'currency');
        const emailTo = str(b.email, 'email');
        const card = str(b.card, 'card');
        const c = await up.call<CartView>('cart', 'GET', `/carts/${encodeURIComponent(user)}`);
        if (c.items.length === 0) throw new HttpError(409, `cart of ${user} is empty`);
        const lines = await Promise.all(
          c.items.map(async (it) => {
            const p = await up.call<Product>('catalog', 'GET', `/products/${encodeURIComponent(it.productId)}`);
            return { productId: it.productId, quantity: it.quantity, lineUsd: p.priceUsd * it.quantity };
          }),
        );
        let subtotalUsd = assertMoney(
          lines.reduce((s, l) => s + l.lineUsd, 0),
          'order subtotal',
        );
        if (d.faults.trigger('exception')) subtotalUsd = defects.applyPromotion(subtotalUsd, defects.expiredPromoCode());
        const quote = await up.call<Quote>('shipping', 'POST', '/quotes', { items: c.items.length });
        const shippingUsd = assertMoney(quote.cost.amount, 'shipping cost');
        const conv = await up.call<Converted>('currency', 'POST', '/convert', { from: 'USD', to: cur, amounts: [subtotalUsd + shippingUsd] });
        const total = assertMoney(conv.amounts[0], 'order total');
        const charge = await up.call<Charge>('payment', 'POST', '/charges', { amount: total, currency: cur, card });
        const orderId = `ORD-${charge.transactionId.slice(0, 8).toUpperCase()}`;
        const shipment = await up.call<{ trackingId: string }>('shipping', 'POST', '/shipments', { orderId, items: c.items.length });
        try {
          await up.call('email', 'POST', '/confirmations', { to: emailTo, orderId, total: `${total.toFixed(2)} ${cur}` });
        } catch (e) {
          log.warn('order confirmation email failed; order kept', { orderId, reason: (e as Error).message });
        }
        await up.call('cart', 'DELETE', `/carts/${encodeURIComponent(user)}`);
        log.info('order placed', { orderId, user, items: c.items.length, total, currency: cur, trackingId: shipment.trackingId });
        return { orderId, total: `${total.toFixed(2)} ${cur}`, trackingId: shipment.trackingId };
      },
    },
  ];
}

function cart(d: Deps): Route[] {
  const store = d.cart;
  if (!store) throw new Error('cart service started without a store');
  return [
    {
      method: 'POST',
      pattern: '/carts/:user/items',
      handler: async ({ params, body }) => {
        const b = obj(body);
        const productId = str(b.productId, 'productId');
        let quantity = Number(b.quantity);
        if (d.faults.trigger('exception')) quantity = defects.normaliseQuantity(-quantity);
        if (!Number.isInteger(quantity) || quantity < 1 || quantity > 99) throw new HttpError(400, `quantity must be an integer in [1, 99], got ${String(b.quantity)}`);
        await store.add(params.user, productId, quantity);
        return { ok: true };
      },
    },
    {
      method: 'GET',
      pattern: '/carts/:user',
      handler: async ({ params }) => {
        const items = await store.get(params.user);
        if (d.faults.trigger('exception')) defects.normaliseQuantity(-1);
        if (d.faults.trigger('bug')) {
          // the bug: a "compact" map shape shipped to callers that expect an array of items
          return { userId: params.user, items: Object.fromEntries(items.map((i) => [i.productId, i.quantity])) };
        }
        return { userId: params.user, items };
      },
    },
    {
      method: 'DELETE',
      pattern: '/carts/:user',
      handler: async ({ params }) => {
        await store.empty(params.user);
        return { ok: true };
      },
    },
  ];
}

function payment(d: Deps): Route[] {
  const { log, rng } = d;
  return [
    {
      method: 'POST',
      pattern: '/charges',
      handler: async ({ body }) => {
        const b = obj(body);
        const amount = Number(b.amount);
        if (!Number.isFinite(amount) || amount <= 0) throw new HttpError(400, `invalid amount ${String(b.amount)}`);
        const card = d.faults.trigger('exception') ? defects.maskedCardFromVault() : str(b.card, 'card');
        if (!defects.luhnValid(card)) throw new HttpError(400, 'card number fails the Luhn check');
        // baseline noise: a small share of cards is declined by the issuer (a business outcome, not a fault)
        if (rng.chance(0.02)) {
          log.warn('card declined by issuer', { amount, currency: String(b.currency), code: 'insufficient_funds' });
          throw new HttpError(402, 'card declined: insufficient_funds');
        }
        const transactionId = rng.hex(8);
        log.info('payment captured', { amount, currency: String(b.currency), transactionId });
        if (d.faults.trigger('bug')) return { status: 'approved', txn: transactionId };
        return { transactionId, status: 'approved' };
      },
    },
  ];
}

function shipping(d: Deps): Route[] {
  const { log, rng } = d;
  return [
    {
      method: 'POST',
      pattern: '/quotes',
      handler: async ({ body }) => {
        const b = obj(body);
        const items = Number(b.items);
        if (!Number.isInteger(items) || items < 0) throw new HttpError(400, 'items must be a non-negative integer');
        const weights = d.faults.trigger('exception') ? [] : Array.from({ length: Math.max(1, items) }, () => 0.4);
        const kg = defects.packageWeight(weights);
        const amount = Math.round((4.99 + kg * 1.5) * 100) / 100;
        if (d.faults.trigger('bug')) return { etaDays: 3, price: amount };
        return { cost: { currency: 'USD', amount }, etaDays: 3 };
      },
    },
    {
      method: 'POST',
      pattern: '/shipments',
      handler: async ({ body }) => {
        const b = obj(body);
        const orderId = str(b.orderId, 'orderId');
        if (rng.chance(0.03)) log.warn('address could not be fully verified; shipping anyway', { orderId });
        const trackingId = `TRK-${rng.hex(5).toUpperCase()}`;
        log.info('shipment created', { orderId, trackingId });
        return { trackingId };
      },
    },
  ];
}

function currency(d: Deps): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/currencies',
      handler: async () => Object.keys(RATES),
    },
    {
      method: 'POST',
      pattern: '/convert',
      handler: async ({ body }) => {
        const b = obj(body);
        const from = str(b.from, 'from').toUpperCase();
        let to = str(b.to, 'to').toUpperCase();
        if (!Array.isArray(b.amounts) || b.amounts.length > 1000) throw new HttpError(400, 'amounts must be an array of at most 1000 numbers');
        if (d.faults.trigger('exception')) to = defects.legacyCurrencyCode(to);
        const rate = defects.rateFor(RATES, to) / defects.rateFor(RATES, from);
        const amounts = (b.amounts as unknown[]).map((a) => Math.round(Number(a) * rate * 100) / 100);
        if (d.faults.trigger('bug')) return { currency: to, values: amounts };
        return { currency: to, amounts };
      },
    },
  ];
}

function email(d: Deps): Route[] {
  const { log } = d;
  return [
    {
      method: 'POST',
      pattern: '/confirmations',
      handler: async ({ body }) => {
        const b = obj(body);
        const to = str(b.to, 'to');
        const orderId = str(b.orderId, 'orderId');
        const template = d.faults.trigger('exception') ? 'order-confirmation-v2' : 'order-confirmation';
        const text = defects.renderTemplate(template, { orderId, total: String(b.total) });
        log.info('confirmation email sent', { to, orderId, bytes: text.length });
        return { accepted: true };
      },
    },
  ];
}

function catalog(d: Deps): Route[] {
  const store = d.catalog;
  if (!store) throw new Error('catalog service started without a store');
  const { log } = d;
  // the bug: a serializer change renamed the price field; HTTP 200 with a wrong shape
  const serialise = (p: Product): unknown => (d.faults.trigger('bug') ? { id: p.id, name: p.name, description: p.description, price_usd: p.priceUsd, categories: p.categories } : p);
  return [
    {
      method: 'GET',
      pattern: '/products',
      handler: async ({ query }) => {
        const cursor = query.get('cursor') ?? (d.faults.trigger('exception') ? defects.staleCursor() : '0');
        const start = defects.decodeCursor(cursor);
        return (await store.list()).slice(start).map(serialise);
      },
    },
    {
      method: 'GET',
      pattern: '/products/:id',
      handler: async ({ params }) => {
        if (d.faults.trigger('exception')) defects.decodeCursor(defects.staleCursor());
        const p = await store.get(params.id);
        if (!p) {
          log.warn('product not found', { productId: params.id });
          throw new HttpError(404, `product ${params.id} not found`);
        }
        return serialise(p);
      },
    },
  ];
}

function recommendation(d: Deps): Route[] {
  const { up, rng } = d;
  return [
    {
      method: 'GET',
      pattern: '/recommendations',
      handler: async ({ query }) => {
        const exclude = new Set((query.get('exclude') ?? '').split(',').filter(Boolean));
        const products = await up.call<Product[]>('catalog', 'GET', '/products');
        const pool = products.filter((p) => !exclude.has(p.id));
        const picked: string[] = [];
        for (let i = 0; i < 4 && pool.length > 0; i++) picked.push(pool.splice(rng.int(0, pool.length - 1), 1)[0].id);
        if (d.faults.trigger('exception')) defects.padRecommendations(picked, 4 - (picked.length + 10));
        if (d.faults.trigger('bug')) return { productIds: picked.join(',') };
        return { productIds: picked };
      },
    },
  ];
}
