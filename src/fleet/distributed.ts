/**
 * Scale-out: agent steps as BullMQ jobs on Redis, run by `tswarm worker` processes that share the PostgreSQL
 * memory. From the fleet's point of view a remote agent is just an Agent: `run()` enqueues the task (with the
 * upstream findings it may read) and resolves with the findings the worker returns. A worker that dies mid-task
 * stops renewing its job lock; BullMQ's stalled-job check hands the job to another worker (findings are upserted
 * by stable id, so a retried task cannot duplicate them).
 */
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import type { Agent, AgentContext, AgentTask, Finding } from './contracts.js';
import type { MemoryStore } from '../store/store.js';
import { systemClock } from './contracts.js';
import { silentLogger } from './logger.js';

export const QUEUE_NAME = 'tswarm-agents';

export interface AgentJob {
  agentId: string;
  task: AgentTask;
  upstream: Finding[];
  cycleId?: string;
}

function connection(redisUrl: string): { host: string; port: number; maxRetriesPerRequest: null } {
  const u = new URL(redisUrl);
  return { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
}

export class RemoteFleet {
  readonly queue: Queue<AgentJob, Finding[]>;
  readonly events: QueueEvents;

  constructor(redisUrl: string) {
    this.queue = new Queue<AgentJob, Finding[]>(QUEUE_NAME, { connection: connection(redisUrl) });
    this.events = new QueueEvents(QUEUE_NAME, { connection: connection(redisUrl) });
  }

  /** An Agent whose work happens on a worker. */
  agent(id: string, layer: Agent['layer'] = 'analysis', timeoutMs = 10 * 60_000): Agent {
    return {
      id,
      layer,
      description: `${id} (on a worker)`,
      run: async (task: AgentTask, ctx: AgentContext): Promise<Finding[]> => {
        await this.events.waitUntilReady();
        const job = await this.queue.add(id, { agentId: id, task, upstream: [...ctx.upstream] }, { attempts: 3, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: 1000, removeOnFail: 1000 });
        const onAbort = (): void => void job.remove().catch(() => undefined);
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        try {
          return (await job.waitUntilFinished(this.events, timeoutMs)) as Finding[];
        } finally {
          ctx.signal.removeEventListener('abort', onAbort);
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}

export interface WorkerOptions {
  redisUrl: string;
  store: MemoryStore;
  concurrency?: number;
  /** Resolve an agent id to an Agent (the registry, plus plugins). */
  resolve: (id: string) => Promise<Agent | undefined>;
  onJob?: (e: { id: string; agentId: string; status: 'started' | 'done' | 'failed'; error?: string }) => void;
  /** Lock time: a worker that stops renewing for this long is presumed dead and its job moves on. */
  lockMs?: number;
}

export function startWorker(o: WorkerOptions): Worker<AgentJob, Finding[]> {
  const lockMs = o.lockMs ?? 5000;
  const w = new Worker<AgentJob, Finding[]>(
    QUEUE_NAME,
    async (job: Job<AgentJob, Finding[]>) => {
      const agent = await o.resolve(job.data.agentId);
      if (!agent) throw new Error(`no agent ${job.data.agentId} on this worker`);
      o.onJob?.({ id: String(job.id), agentId: job.data.agentId, status: 'started' });
      const ac = new AbortController();
      const findings = await agent.run(job.data.task, { store: o.store, log: silentLogger, clock: systemClock, signal: ac.signal, upstream: job.data.upstream, progress: (p) => void job.updateProgress({ ...p }).catch(() => undefined) });
      // Stored here too: the memory is shared, and upserts by id make a retried job harmless.
      await o.store.findings.upsert(findings, job.data.task.params.cycleId ? String(job.data.task.params.cycleId) : `job-${job.id}`);
      o.onJob?.({ id: String(job.id), agentId: job.data.agentId, status: 'done' });
      return findings;
    },
    { connection: connection(o.redisUrl), concurrency: o.concurrency ?? 1, lockDuration: lockMs, stalledInterval: Math.max(1000, Math.floor(lockMs / 2)), maxStalledCount: 3 },
  );
  w.on('failed', (job, err) => o.onJob?.({ id: String(job?.id), agentId: job?.data.agentId ?? '?', status: 'failed', error: err.message }));
  return w;
}
