/**
 * The agent runtime: runs a plan (a DAG of agent steps) with a `maxAgents` concurrency limit, per-step timeouts
 * (the agent gets an AbortSignal; the runtime stops waiting at the deadline even if the agent ignores it),
 * cancellation of the whole run, retries with exponential backoff, and failure isolation: a failed step is
 * reported and its dependents run with what they have (or are skipped, per step). Every transition is an event.
 */
import type { Agent, AgentTask, Clock, Finding, Logger, Progress } from './contracts.js';
import type { MemoryStore } from '../store/store.js';

export interface PlanStep {
  id: string;
  agent: Agent;
  task: AgentTask;
  dependsOn: string[];
  timeoutMs?: number;
  retries?: number;
  /** What to do when a dependency failed: run with the findings that exist (default) or skip. */
  onDependencyFailure?: 'run' | 'skip';
  /** Steps can be declared and not run (a disabled domain): reported as skipped with this reason. */
  disabledReason?: string;
}

export type StepStatus = 'ok' | 'failed' | 'timeout' | 'skipped' | 'cancelled';

export interface StepResult {
  stepId: string;
  agentId: string;
  status: StepStatus;
  findings: Finding[];
  attempts: number;
  durationMs: number;
  error?: string;
}

export type FleetEvent =
  | { type: 'run-started'; runId: string; steps: number }
  | { type: 'step-started'; runId: string; stepId: string; agentId: string; attempt: number }
  | { type: 'step-progress'; runId: string; stepId: string; agentId: string; progress: Progress }
  | { type: 'step-retry'; runId: string; stepId: string; agentId: string; attempt: number; error: string; delayMs: number }
  | { type: 'step-finished'; runId: string; result: StepResult }
  | { type: 'finding'; runId: string; stepId: string; finding: Finding }
  | { type: 'run-finished'; runId: string; results: StepResult[] };

export interface RunOptions {
  runId: string;
  store: MemoryStore;
  log: Logger;
  clock: Clock;
  maxAgents: number;
  signal?: AbortSignal;
  defaultTimeoutMs?: number;
  retryBaseMs?: number;
  onEvent?: (e: FleetEvent) => void;
  /** Which findings a step sees (topology). Default: the findings of its transitive dependencies. */
  upstreamFor?: (step: PlanStep, done: ReadonlyMap<string, StepResult>, plan: readonly PlanStep[]) => Finding[] | Promise<Finding[]>;
  /** Called when a step finished, before its dependents start (e.g. to publish its findings to shared memory). */
  afterStep?: (step: PlanStep, result: StepResult) => Promise<void>;
}

export class PlanError extends Error {}

export function validatePlan(steps: readonly PlanStep[]): void {
  const ids = new Set<string>();
  for (const s of steps) {
    if (ids.has(s.id)) throw new PlanError(`duplicate step id "${s.id}"`);
    ids.add(s.id);
  }
  for (const s of steps) for (const d of s.dependsOn) if (!ids.has(d)) throw new PlanError(`step "${s.id}" depends on unknown step "${d}"`);
  // Cycle check (Kahn).
  const indeg = new Map(steps.map((s) => [s.id, s.dependsOn.length]));
  const queue = steps.filter((s) => !s.dependsOn.length).map((s) => s.id);
  let seen = 0;
  while (queue.length) {
    const id = queue.shift()!;
    seen++;
    for (const s of steps) if (s.dependsOn.includes(id)) {
      indeg.set(s.id, indeg.get(s.id)! - 1);
      if (indeg.get(s.id) === 0) queue.push(s.id);
    }
  }
  if (seen !== steps.length) throw new PlanError('the plan has a dependency cycle');
}

export function transitiveDeps(step: PlanStep, plan: readonly PlanStep[]): Set<string> {
  const byId = new Map(plan.map((s) => [s.id, s]));
  const out = new Set<string>();
  const stack = [...step.dependsOn];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(byId.get(id)?.dependsOn ?? []));
  }
  return out;
}

class TimeoutError extends Error {}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

export async function runPlan(plan: readonly PlanStep[], opts: RunOptions): Promise<StepResult[]> {
  validatePlan(plan);
  const emit = (e: FleetEvent): void => {
    try {
      opts.onEvent?.(e);
    } catch {
      // An observer's failure must never break the run.
    }
  };
  const done = new Map<string, StepResult>();
  const running = new Set<string>();
  const pending = new Set(plan.map((s) => s.id));
  emit({ type: 'run-started', runId: opts.runId, steps: plan.length });

  const upstreamFor =
    opts.upstreamFor ??
    ((step: PlanStep): Finding[] => {
      const deps = transitiveDeps(step, plan);
      return [...done.values()].filter((r) => deps.has(r.stepId)).flatMap((r) => r.findings);
    });

  const finish = async (step: PlanStep, result: StepResult): Promise<void> => {
    if (opts.afterStep) {
      try {
        await opts.afterStep(step, result);
      } catch (e) {
        opts.log.warn('afterStep failed', { step: step.id, error: String(e) });
      }
    }
    done.set(step.id, result);
    emit({ type: 'step-finished', runId: opts.runId, result });
  };

  const runStep = async (step: PlanStep): Promise<void> => {
    const t0 = Date.now();
    const base = { stepId: step.id, agentId: step.agent.id };
    if (step.disabledReason) return finish(step, { ...base, status: 'skipped', findings: [], attempts: 0, durationMs: 0, error: step.disabledReason });
    const failedDeps = step.dependsOn.filter((d) => done.get(d)?.status !== 'ok');
    if (failedDeps.length && step.onDependencyFailure === 'skip') {
      return finish(step, { ...base, status: 'skipped', findings: [], attempts: 0, durationMs: 0, error: `dependencies did not succeed: ${failedDeps.join(', ')}` });
    }
    const upstream = await upstreamFor(step, done, plan);
    const retries = step.retries ?? 0;
    const timeoutMs = step.timeoutMs ?? opts.defaultTimeoutMs ?? 120_000;
    let lastError = '';
    let status: StepStatus = 'failed';
    let attempts = 0;
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      attempts = attempt;
      if (opts.signal?.aborted) {
        status = 'cancelled';
        lastError = 'run cancelled';
        break;
      }
      emit({ type: 'step-started', runId: opts.runId, stepId: step.id, agentId: step.agent.id, attempt });
      const ac = new AbortController();
      const onAbort = (): void => ac.abort(opts.signal?.reason);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let timer: NodeJS.Timeout | undefined;
      try {
        const findings = await Promise.race([
          step.agent.run(step.task, {
            store: opts.store,
            log: opts.log,
            clock: opts.clock,
            signal: ac.signal,
            upstream,
            progress: (p) => emit({ type: 'step-progress', runId: opts.runId, stepId: step.id, agentId: step.agent.id, progress: p }),
          }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              ac.abort(new TimeoutError(`timed out after ${timeoutMs} ms`));
              reject(new TimeoutError(`timed out after ${timeoutMs} ms`));
            }, timeoutMs);
          }),
          new Promise<never>((_, reject) => {
            if (opts.signal) opts.signal.addEventListener('abort', () => reject(new Error('run cancelled')), { once: true });
          }),
        ]);
        for (const f of findings) emit({ type: 'finding', runId: opts.runId, stepId: step.id, finding: f });
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        return finish(step, { ...base, status: 'ok', findings, attempts: attempt, durationMs: Date.now() - t0 });
      } catch (e) {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        lastError = e instanceof Error ? e.message : String(e);
        status = e instanceof TimeoutError ? 'timeout' : opts.signal?.aborted ? 'cancelled' : 'failed';
        if (status === 'cancelled' || attempt > retries) break;
        const delayMs = (opts.retryBaseMs ?? 200) * 2 ** (attempt - 1);
        emit({ type: 'step-retry', runId: opts.runId, stepId: step.id, agentId: step.agent.id, attempt, error: lastError, delayMs });
        await sleep(delayMs, opts.signal);
      }
    }
    opts.log.warn(`agent ${step.agent.id} ${status}`, { step: step.id, error: lastError });
    return finish(step, { ...base, status, findings: [], attempts, durationMs: Date.now() - t0, error: lastError });
  };

  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (!pending.size && !running.size) return resolve();
      for (const step of plan) {
        if (running.size >= opts.maxAgents) break;
        if (!pending.has(step.id)) continue;
        if (!step.dependsOn.every((d) => done.has(d))) continue;
        pending.delete(step.id);
        running.add(step.id);
        void runStep(step).then(
          () => {
            running.delete(step.id);
            pump();
          },
          (e: unknown) => {
            // runStep never throws by design; if it does, report the step as failed rather than hang the run.
            done.set(step.id, { stepId: step.id, agentId: step.agent.id, status: 'failed', findings: [], attempts: 0, durationMs: 0, error: String(e) });
            running.delete(step.id);
            pump();
          },
        );
      }
    };
    pump();
  });
  const results = plan.map((s) => done.get(s.id)!);
  emit({ type: 'run-finished', runId: opts.runId, results });
  return results;
}
