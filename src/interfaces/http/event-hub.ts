/**
 * In-process hub of what the swarm is doing (cycle and agent events, ingest counters), streamed to the dashboard
 * and API clients as Server-Sent Events. Keeps a bounded ring of recent events so a client that connects late
 * (or reconnects with Last-Event-ID) catches up.
 */
import { EventEmitter } from 'node:events';

export interface HubEvent {
  id: number;
  type: string;
  atMs: number;
  data: unknown;
}

export class EventHub {
  private readonly emitter = new EventEmitter();
  private readonly ring: HubEvent[] = [];
  private nextId = 1;

  constructor(private readonly capacity = 500) {
    this.emitter.setMaxListeners(0);
  }

  publish(type: string, data: unknown): HubEvent {
    const ev: HubEvent = { id: this.nextId++, type, atMs: Date.now(), data };
    this.ring.push(ev);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    this.emitter.emit('event', ev);
    return ev;
  }

  recent(afterId = 0): HubEvent[] {
    return this.ring.filter((e) => e.id > afterId);
  }

  subscribe(fn: (ev: HubEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
