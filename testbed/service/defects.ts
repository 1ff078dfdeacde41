/**
 * Ordinary helper code of the shop. Each function is correct for the inputs it was written for and throws a
 * genuine runtime error (from the line that does the work) for the bad input the `exception` fault feeds it,
 * so stack traces point into real source lines that the defect predictor can map to files.
 */

/** Frontend: reads the base64 JSON session cookie. */
export function parseSessionCookie(cookie: string): { user: string } {
  const json = Buffer.from(cookie, 'base64').toString('utf8');
  return JSON.parse(json) as { user: string };
}

/** A session cookie cut off by a proxy's header size limit. */
export function truncatedCookie(): string {
  return Buffer.from(JSON.stringify({ user: 'u-1', cart: 'c-1', prefs: { currency: 'EUR' } })).toString('base64').slice(0, 30);
}

const PROMOTIONS: Record<string, { percentOff: number }> = { SPRING10: { percentOff: 10 }, WELCOME5: { percentOff: 5 } };

/** Checkout: applies a promotion code to a subtotal. */
export function applyPromotion(subtotal: number, code: string): number {
  const promo = PROMOTIONS[code];
  return Math.round(subtotal * (100 - promo.percentOff)) / 100;
}

export function expiredPromoCode(): string {
  return 'WINTER23';
}

/** Cart: expands a quantity into unit slots (used by the stock reservation). */
export function normaliseQuantity(q: number): number {
  const slots = new Array<number>(q).fill(1);
  return slots.length;
}

/** Payment: the Luhn checksum of a card number. */
export function luhnValid(card: string): boolean {
  const digits = card.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let n = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
    sum += n;
  }
  return digits.length >= 12 && sum % 10 === 0;
}

/** A vault look-up that lost the card (the record has no number). */
export function maskedCardFromVault(): string {
  const record: { number?: string } = {};
  return record.number as string;
}

/** Shipping: total weight of the packages (kg). */
export function packageWeight(weights: number[]): number {
  return weights.reduce((a, b) => a + b);
}

/** Currency: the rate of a currency against USD. */
export function rateFor(rates: Record<string, { rate: number }>, code: string): number {
  return rates[code].rate;
}

/** Maps pre-euro codes still found in old customer profiles. */
export function legacyCurrencyCode(code: string): string {
  return code === 'EUR' || code === 'USD' ? 'DEM' : code + 'X';
}

const TEMPLATES: Record<string, (v: Record<string, string>) => string> = {
  'order-confirmation': (v) => `Thank you for your order ${v.orderId}. Total: ${v.total}.`,
};

/** Email: renders a message template. */
export function renderTemplate(name: string, vars: Record<string, string>): string {
  const render = TEMPLATES[name];
  return render(vars);
}

/** Catalog: decodes a pagination cursor (a BigInt offset). */
export function decodeCursor(cursor: string): number {
  return Number(BigInt(cursor));
}

export function staleCursor(): string {
  return 'eyJvZmZzZXQiOjEyfQ';
}

/** Recommendation: pads a short list with filler slots. */
export function padRecommendations(ids: string[], missing: number): string[] {
  return ids.concat('-'.repeat(missing).split(''));
}
