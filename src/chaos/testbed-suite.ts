/**
 * The ready chaos suite for the testbed shop: one experiment per dependency-edge fault class (latency, outage,
 * errors, slow network), each with a user-facing steady-state hypothesis measured through the frontend. The
 * shop is started with a chaos proxy in front of each targeted service (callers reach it through the proxy),
 * so the faults are real network faults, and the journals are real measurements.
 */
import type { Experiment } from './experiment.js';

export interface SuiteTargets {
  frontendUrl: string;
  api: string;
}

const user = 'chaos-probe';

function checkoutProbe(t: SuiteTargets, maxP95: number): Experiment['method'][number] {
  return {
    type: 'probe',
    name: 'checkout-journey',
    provider: {
      type: 'http',
      method: 'POST',
      url: `${t.frontendUrl}/api/checkout`,
      body: { user, currency: 'USD', email: `${user}@example.com` },
      setup: [{ method: 'POST', url: `${t.frontendUrl}/api/cart`, body: { user, productId: 'P001', quantity: 1 } }],
      repeat: 4,
      timeout: 12,
    },
    tolerance: { type: 'range', target: 'p95_ms', range: [0, maxP95] },
  };
}

function errorProbe(t: SuiteTargets, name: string, path: string, maxErr: number): Experiment['method'][number] {
  return { type: 'probe', name, provider: { type: 'http', url: `${t.frontendUrl}${path}`, repeat: 10, timeout: 10 }, tolerance: { type: 'range', target: 'error_rate', range: [0, maxErr] } };
}

export function testbedSuite(t: SuiteTargets): Experiment[] {
  const toxic = (name: string, proxy: string, type: string, attributes: Record<string, number>, toxicity = 1): Experiment['method'][number] => ({
    type: 'action',
    name,
    provider: { type: 'toxic', api: t.api, proxy, toxic: { name, type, stream: 'downstream', toxicity, attributes } },
    pauses: { after: 1 },
  });
  return [
    {
      title: 'checkout stays fast when payment is slow',
      description: 'latency on checkout → payment',
      configuration: { max_duration_s: 90, target: { caller: 'checkout', dependency: 'payment' } },
      'steady-state-hypothesis': { title: 'checkout p95 under 1.5 s', probes: [checkoutProbe(t, 1500)] },
      method: [toxic('payment-latency', 'payment', 'latency', { latency: 2000, jitter: 100 })],
    },
    {
      title: 'checkout survives an email outage',
      description: 'connection resets on checkout → email',
      configuration: { max_duration_s: 90, target: { caller: 'checkout', dependency: 'email' } },
      'steady-state-hypothesis': {
        title: 'checkouts still succeed',
        probes: [{ ...checkoutProbe(t, 5000), tolerance: { type: 'range', target: 'error_rate', range: [0, 0.1] } }],
      },
      method: [toxic('email-reset', 'email', 'reset_peer', { timeout: 0 })],
    },
    {
      title: 'the home page survives currency errors',
      description: 'HTTP 503 from currency (frontend → currency, one retry)',
      configuration: { max_duration_s: 90, target: { caller: 'frontend', dependency: 'currency' } },
      'steady-state-hypothesis': { title: 'home page error rate under 10%', probes: [errorProbe(t, 'home-errors', '/api/home?currency=EUR', 0.1)] },
      method: [toxic('currency-errors', 'currency', 'http_error', { status: 503, rate: 1 }, 0.5)],
    },
    {
      title: 'product pages stay fast on a slow catalog network',
      description: 'slow network to catalog (recommendation → catalog has no timeout)',
      configuration: { max_duration_s: 90, target: { caller: 'recommendation', dependency: 'catalog' } },
      'steady-state-hypothesis': {
        title: 'product page p95 under 1 s',
        probes: [{ type: 'probe', name: 'product-page', provider: { type: 'http', url: `${t.frontendUrl}/api/product/P002?currency=USD`, repeat: 5, timeout: 10 }, tolerance: { type: 'range', target: 'p95_ms', range: [0, 1000] } }],
      },
      method: [toxic('catalog-slow', 'catalog', 'latency', { latency: 800, jitter: 50 })],
    },
  ];
}

export const SUITE_SERVICES = ['payment', 'email', 'currency', 'catalog'] as const;
