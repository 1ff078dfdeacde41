/**
 * Measured accuracy of agents from outcome verdicts. A verdict confirms or rejects one finding; the precision of
 * an agent (or of one finding kind of an agent) is the share confirmed. Small samples are common (a team confirms
 * a handful of findings a week), so every figure carries a Wilson score interval and a Beta(1,1)-smoothed point
 * estimate that the fleet uses as a weight — a raw 1/1 = 100 % must not outrank 45/50.
 */

export interface VerdictFact {
  findingId: string;
  agentId: string;
  kind: string;
  verdict: 'confirmed' | 'rejected';
  automatic: boolean;
}

export interface AccuracyRow {
  agentId: string;
  /** `*` for all kinds of the agent together. */
  kind: string;
  confirmed: number;
  rejected: number;
  total: number;
  /** Raw share confirmed. */
  precision: number;
  /** Posterior mean with a uniform Beta(1,1) prior: (c+1)/(n+2). */
  smoothed: number;
  /** 95 % Wilson score interval of the precision. */
  low: number;
  high: number;
}

/** Wilson score interval; well-behaved at 0 and n successes, unlike the normal approximation. */
export function wilson(successes: number, n: number, z = 1.96): { low: number; high: number } {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * Accuracy per agent and per (agent, kind). When a finding has several verdicts the latest wins — callers pass
 * them in time order — because a person overruling an automatic verdict is the truth we want.
 */
export function accuracyFromVerdicts(facts: readonly VerdictFact[]): AccuracyRow[] {
  const latest = new Map<string, VerdictFact>();
  for (const f of facts) latest.set(f.findingId, f);
  const counts = new Map<string, { agentId: string; kind: string; c: number; r: number }>();
  const bump = (agentId: string, kind: string, ok: boolean): void => {
    const k = `${agentId}\u0000${kind}`;
    const cur = counts.get(k) ?? { agentId, kind, c: 0, r: 0 };
    if (ok) cur.c++;
    else cur.r++;
    counts.set(k, cur);
  };
  for (const f of latest.values()) {
    bump(f.agentId, f.kind, f.verdict === 'confirmed');
    bump(f.agentId, '*', f.verdict === 'confirmed');
  }
  const rows: AccuracyRow[] = [];
  for (const { agentId, kind, c, r } of counts.values()) {
    const n = c + r;
    const { low, high } = wilson(c, n);
    rows.push({ agentId, kind, confirmed: c, rejected: r, total: n, precision: n ? c / n : 0, smoothed: (c + 1) / (n + 2), low, high });
  }
  rows.sort((a, b) => a.agentId.localeCompare(b.agentId) || (a.kind === '*' ? -1 : b.kind === '*' ? 1 : a.kind.localeCompare(b.kind)));
  return rows;
}

/** The smoothed precision of an agent's kind, falling back to the agent overall, then to the prior 0.5. */
export function trustOf(rows: readonly AccuracyRow[], agentId: string, kind?: string): number {
  const exact = kind ? rows.find((r) => r.agentId === agentId && r.kind === kind) : undefined;
  if (exact) return exact.smoothed;
  const all = rows.find((r) => r.agentId === agentId && r.kind === '*');
  return all ? all.smoothed : 0.5;
}
