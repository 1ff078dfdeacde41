/**
 * The memory facets of the SQLite backend: pattern store, knowledge graph, learning store, shared namespaces and
 * findings. Small tables, JSON values; correctness over speed here (agents write thousands of rows per cycle,
 * not millions).
 */
import type Database from 'better-sqlite3';
import type { Finding } from '../../fleet/contracts.js';
import {
  AccessDeniedError,
  type AuditEntry,
  type FindingStore,
  type GraphEdge,
  type GraphNode,
  type KnowledgeGraphStore,
  type LearningStore,
  type NamespaceRule,
  type PatternKind,
  type PatternRecord,
  type PatternStore,
  type SharedMemoryStore,
  type SharedRecord,
  type TransferRecord,
  type Trajectory,
  type Verdict,
} from '../store.js';

const nowUs = (): number => Date.now() * 1000;

export class SqlitePatterns implements PatternStore {
  constructor(private readonly db: Database.Database) {}

  private readonly upsert = (kind: string, key: string, value: unknown, service: string | undefined, at: number): number => {
    const row = this.db
      .prepare(
        'INSERT INTO patterns (kind, key, service, value, updated_us, version) VALUES (?,?,?,?,?,1) ON CONFLICT(kind, key) DO UPDATE SET service = excluded.service, value = excluded.value, updated_us = excluded.updated_us, version = version + 1 RETURNING version',
      )
      .get(kind, key, service ?? null, JSON.stringify(value), at) as { version: number };
    return row.version;
  };

  async put<T>(kind: PatternKind, key: string, value: T, opts: { service?: string } = {}): Promise<PatternRecord<T>> {
    const at = nowUs();
    const version = this.upsert(kind, key, value, opts.service, at);
    return { kind, key, value, service: opts.service, updatedUs: at, version };
  }

  async putMany<T>(kind: PatternKind, items: { key: string; value: T; service?: string }[]): Promise<void> {
    const at = nowUs();
    this.db.transaction(() => {
      for (const i of items) this.upsert(kind, i.key, i.value, i.service, at);
    })();
  }

  private row<T>(r: { kind: string; key: string; service: string | null; value: string; updated_us: number; version: number }): PatternRecord<T> {
    const rec: PatternRecord<T> = { kind: r.kind, key: r.key, value: JSON.parse(r.value) as T, updatedUs: r.updated_us, version: r.version };
    if (r.service !== null) rec.service = r.service;
    return rec;
  }

  async get<T>(kind: PatternKind, key: string): Promise<PatternRecord<T> | undefined> {
    const r = this.db.prepare('SELECT * FROM patterns WHERE kind = ? AND key = ?').get(kind, key) as Parameters<SqlitePatterns['row']>[0] | undefined;
    return r ? this.row<T>(r) : undefined;
  }

  async list<T>(kind: PatternKind, opts: { service?: string; limit?: number; updatedSinceUs?: number } = {}): Promise<PatternRecord<T>[]> {
    const params: unknown[] = [kind];
    let sql = 'SELECT * FROM patterns WHERE kind = ?';
    if (opts.service !== undefined) {
      sql += ' AND service = ?';
      params.push(opts.service);
    }
    if (opts.updatedSinceUs !== undefined) {
      sql += ' AND updated_us >= ?';
      params.push(Math.floor(opts.updatedSinceUs));
    }
    sql += ' ORDER BY updated_us DESC, key';
    if (opts.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(opts.limit))}`;
    return (this.db.prepare(sql).all(...params) as Parameters<SqlitePatterns['row']>[0][]).map((r) => this.row<T>(r));
  }

  async delete(kind: PatternKind, key: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM patterns WHERE kind = ? AND key = ?').run(kind, key).changes > 0;
  }
}

export class SqliteGraph implements KnowledgeGraphStore {
  constructor(private readonly db: Database.Database) {}

  async upsertNodes(nodes: { id: string; kind: string; props?: Record<string, unknown>; seenUs: number }[]): Promise<void> {
    const st = this.db.prepare(
      'INSERT INTO graph_nodes (id, kind, props, first_seen_us, last_seen_us) VALUES (?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, props = json_patch(props, excluded.props), first_seen_us = min(first_seen_us, excluded.first_seen_us), last_seen_us = max(last_seen_us, excluded.last_seen_us)',
    );
    this.db.transaction(() => {
      for (const n of nodes) st.run(n.id, n.kind, JSON.stringify(n.props ?? {}), n.seenUs, n.seenUs);
    })();
  }

  async upsertEdges(edges: { source: string; target: string; kind: string; weight?: number; props?: Record<string, unknown>; seenUs: number }[]): Promise<void> {
    const st = this.db.prepare(
      'INSERT INTO graph_edges (source, target, kind, weight, props, first_seen_us, last_seen_us) VALUES (?,?,?,?,?,?,?) ON CONFLICT(source, target, kind) DO UPDATE SET weight = excluded.weight, props = excluded.props, first_seen_us = min(first_seen_us, excluded.first_seen_us), last_seen_us = max(last_seen_us, excluded.last_seen_us)',
    );
    this.db.transaction(() => {
      for (const e of edges) st.run(e.source, e.target, e.kind, e.weight ?? 1, JSON.stringify(e.props ?? {}), e.seenUs, e.seenUs);
    })();
  }

  async nodes(q: { kind?: string; ids?: string[] } = {}): Promise<GraphNode[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.kind) {
      where.push('kind = ?');
      params.push(q.kind);
    }
    if (q.ids?.length) {
      where.push(`id IN (${q.ids.map(() => '?').join(',')})`);
      params.push(...q.ids);
    }
    const rows = this.db.prepare(`SELECT * FROM graph_nodes${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id`).all(...params) as {
      id: string;
      kind: string;
      props: string;
      first_seen_us: number;
      last_seen_us: number;
    }[];
    return rows.map((r) => ({ id: r.id, kind: r.kind, props: JSON.parse(r.props) as Record<string, unknown>, firstSeenUs: r.first_seen_us, lastSeenUs: r.last_seen_us }));
  }

  async edges(q: { kind?: string; source?: string; target?: string; sinceUs?: number } = {}): Promise<GraphEdge[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const [col, v] of [
      ['kind', q.kind],
      ['source', q.source],
      ['target', q.target],
    ] as const) {
      if (v !== undefined) {
        where.push(`${col} = ?`);
        params.push(v);
      }
    }
    if (q.sinceUs !== undefined) {
      where.push('last_seen_us >= ?');
      params.push(q.sinceUs);
    }
    const rows = this.db.prepare(`SELECT * FROM graph_edges${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY source, target, kind`).all(...params) as {
      source: string;
      target: string;
      kind: string;
      weight: number;
      props: string;
      first_seen_us: number;
      last_seen_us: number;
    }[];
    return rows.map((r) => ({ source: r.source, target: r.target, kind: r.kind, weight: r.weight, props: JSON.parse(r.props) as Record<string, unknown>, firstSeenUs: r.first_seen_us, lastSeenUs: r.last_seen_us }));
  }
}

export class SqliteLearning implements LearningStore {
  constructor(private readonly db: Database.Database) {}

  async recordTrajectory(t: Trajectory): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO trajectories (id, agent_id, task_id, cycle_id, decision, evidence, finding_ids, at_us) VALUES (?,?,?,?,?,?,?,?)')
      .run(t.id, t.agentId, t.taskId ?? null, t.cycleId ?? null, t.decision, JSON.stringify(t.evidence ?? null), JSON.stringify(t.findingIds), t.atUs);
  }

  async trajectories(q: { agentId?: string; cycleId?: string; limit?: number } = {}): Promise<Trajectory[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.agentId) {
      where.push('agent_id = ?');
      params.push(q.agentId);
    }
    if (q.cycleId) {
      where.push('cycle_id = ?');
      params.push(q.cycleId);
    }
    const rows = this.db
      .prepare(`SELECT * FROM trajectories${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY at_us DESC${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`)
      .all(...params) as { id: string; agent_id: string; task_id: string | null; cycle_id: string | null; decision: string; evidence: string; finding_ids: string; at_us: number }[];
    return rows.map((r) => ({
      id: r.id,
      agentId: r.agent_id,
      ...(r.task_id !== null ? { taskId: r.task_id } : {}),
      ...(r.cycle_id !== null ? { cycleId: r.cycle_id } : {}),
      decision: r.decision,
      evidence: JSON.parse(r.evidence) as unknown,
      findingIds: JSON.parse(r.finding_ids) as string[],
      atUs: r.at_us,
    }));
  }

  async recordVerdict(v: Verdict): Promise<void> {
    this.db.prepare('INSERT INTO verdicts (finding_id, verdict, by_whom, reason, at_us, automatic) VALUES (?,?,?,?,?,?)').run(v.findingId, v.verdict, v.by, v.reason ?? null, v.atUs, v.automatic ? 1 : 0);
  }

  async verdicts(q: { findingIds?: string[]; agentId?: string } = {}): Promise<Verdict[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.findingIds) {
      if (!q.findingIds.length) return [];
      where.push(`v.finding_id IN (${q.findingIds.map(() => '?').join(',')})`);
      params.push(...q.findingIds);
    }
    if (q.agentId) {
      where.push('f.agent_id = ?');
      params.push(q.agentId);
    }
    const rows = this.db
      .prepare(`SELECT v.* FROM verdicts v LEFT JOIN findings f ON f.id = v.finding_id${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY v.at_us, v.id`)
      .all(...params) as { finding_id: string; verdict: Verdict['verdict']; by_whom: string; reason: string | null; at_us: number; automatic: number }[];
    return rows.map((r) => ({ findingId: r.finding_id, verdict: r.verdict, by: r.by_whom, ...(r.reason !== null ? { reason: r.reason } : {}), atUs: r.at_us, automatic: r.automatic === 1 }));
  }

  /** Upsert by id: recording a transfer again (e.g. with its outcome) replaces it. */
  async recordTransfer(t: TransferRecord): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO transfers (id, from_subject, to_subject, kind, payload, at_us, outcome) VALUES (?,?,?,?,?,?,?)')
      .run(t.id, t.fromSubject, t.toSubject, t.kind, JSON.stringify(t.payload ?? null), t.atUs, t.outcome ?? null);
  }

  async transfers(q: { toSubject?: string; kind?: string } = {}): Promise<TransferRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.toSubject) {
      where.push('to_subject = ?');
      params.push(q.toSubject);
    }
    if (q.kind) {
      where.push('kind = ?');
      params.push(q.kind);
    }
    const rows = this.db.prepare(`SELECT * FROM transfers${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY at_us, id`).all(...params) as {
      id: string;
      from_subject: string;
      to_subject: string;
      kind: string;
      payload: string;
      at_us: number;
      outcome: TransferRecord['outcome'] | null;
    }[];
    return rows.map((r) => ({ id: r.id, fromSubject: r.from_subject, toSubject: r.to_subject, kind: r.kind, payload: JSON.parse(r.payload) as unknown, atUs: r.at_us, ...(r.outcome ? { outcome: r.outcome } : {}) }));
  }
}

export class SqliteShared implements SharedMemoryStore {
  constructor(private readonly db: Database.Database) {}

  private audit1(actor: string, action: AuditEntry['action'], namespace: string, detail?: string): void {
    this.db.prepare('INSERT INTO audit (at_us, actor, action, namespace, detail) VALUES (?,?,?,?,?)').run(nowUs(), actor, action, namespace, detail ?? null);
  }

  private rule(namespace: string): NamespaceRule | undefined {
    const r = this.db.prepare('SELECT * FROM namespaces WHERE namespace = ?').get(namespace) as { namespace: string; owner: string; visibility: NamespaceRule['visibility']; writers: string } | undefined;
    return r ? { namespace: r.namespace, owner: r.owner, visibility: r.visibility, writers: JSON.parse(r.writers) as string[] } : undefined;
  }

  /** The first definition wins ownership; later definitions by the owner update the rules, others are ignored. */
  async defineNamespace(rule: NamespaceRule): Promise<void> {
    const cur = this.rule(rule.namespace);
    if (cur && cur.owner !== rule.owner) return;
    this.db.prepare('INSERT OR REPLACE INTO namespaces (namespace, owner, visibility, writers) VALUES (?,?,?,?)').run(rule.namespace, rule.owner, rule.visibility, JSON.stringify(rule.writers));
    this.audit1(rule.owner, 'define', rule.namespace, `${rule.visibility}; writers: ${rule.writers.join(', ')}`);
  }

  private mayWrite(rule: NamespaceRule | undefined, writer: string): boolean {
    return !rule || rule.owner === writer || rule.writers.includes(writer);
  }

  private mayRead(rule: NamespaceRule | undefined, reader: string): boolean {
    if (!rule || rule.visibility === 'public' || rule.owner === reader || rule.writers.includes(reader)) return true;
    return this.db.prepare('SELECT 1 FROM grants WHERE namespace = ? AND agent = ?').get(rule.namespace, reader) !== undefined;
  }

  async write(namespace: string, key: string, value: unknown, writer: string, provenance: Record<string, unknown> = {}): Promise<void> {
    let rule = this.rule(namespace);
    if (!rule) {
      // Writing to an undefined namespace defines it: public, owned by the writer.
      await this.defineNamespace({ namespace, owner: writer, visibility: 'public', writers: [writer] });
      rule = this.rule(namespace);
    }
    if (!this.mayWrite(rule, writer)) {
      this.audit1(writer, 'deny', namespace, `write ${key}`);
      throw new AccessDeniedError(writer, namespace, 'write');
    }
    this.db.prepare('INSERT INTO shared_records (namespace, key, value, writer, provenance, at_us) VALUES (?,?,?,?,?,?)').run(namespace, key, JSON.stringify(value ?? null), writer, JSON.stringify({ writer, ...provenance }), nowUs());
    this.audit1(writer, 'write', namespace, key);
  }

  async read(namespace: string, reader: string, opts: { sinceUs?: number; limit?: number } = {}): Promise<SharedRecord[]> {
    const rule = this.rule(namespace);
    if (!this.mayRead(rule, reader)) {
      this.audit1(reader, 'deny', namespace, 'read');
      throw new AccessDeniedError(reader, namespace, 'read');
    }
    const rows = this.db
      .prepare(`SELECT * FROM shared_records WHERE namespace = ? AND at_us >= ? ORDER BY at_us, id${opts.limit ? ` LIMIT ${Math.floor(opts.limit)}` : ''}`)
      .all(namespace, opts.sinceUs ?? 0) as { namespace: string; key: string; value: string; writer: string; provenance: string; at_us: number }[];
    this.audit1(reader, 'read', namespace, `${rows.length} records`);
    return rows.map((r) => ({ namespace: r.namespace, key: r.key, value: JSON.parse(r.value) as unknown, writer: r.writer, provenance: JSON.parse(r.provenance) as Record<string, unknown>, atUs: r.at_us }));
  }

  /**
   * Writes the records into the namespace (as the source; provenance names the targets) and grants every target
   * read access, so they see them on their next read. Returns the number of deliveries (records × targets).
   */
  async share(sourceAgentId: string, targetAgentIds: string[], namespace: string, records: { key: string; value: unknown }[]): Promise<number> {
    const at = nowUs();
    for (const r of records) await this.write(namespace, r.key, r.value, sourceAgentId, { sharedBy: sourceAgentId, targets: targetAgentIds });
    const grant = this.db.prepare('INSERT OR IGNORE INTO grants (namespace, agent, granted_by, at_us) VALUES (?,?,?,?)');
    this.db.transaction(() => {
      for (const t of targetAgentIds) grant.run(namespace, t, sourceAgentId, at);
    })();
    this.audit1(sourceAgentId, 'share', namespace, `${records.length} records → ${targetAgentIds.join(', ')}`);
    return records.length * targetAgentIds.length;
  }

  async audit(q: { namespace?: string; actor?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.namespace) {
      where.push('namespace = ?');
      params.push(q.namespace);
    }
    if (q.actor) {
      where.push('actor = ?');
      params.push(q.actor);
    }
    const rows = this.db
      .prepare(`SELECT * FROM audit${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY id${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`)
      .all(...params) as { at_us: number; actor: string; action: AuditEntry['action']; namespace: string; detail: string | null }[];
    return rows.map((r) => ({ atUs: r.at_us, actor: r.actor, action: r.action, namespace: r.namespace, ...(r.detail !== null ? { detail: r.detail } : {}) }));
  }
}

export class SqliteFindings implements FindingStore {
  constructor(private readonly db: Database.Database) {}

  async upsert(findings: Finding[], cycleId: string): Promise<{ inserted: string[]; updated: string[] }> {
    const inserted: string[] = [];
    const updated: string[] = [];
    const get = this.db.prepare('SELECT first_cycle_id FROM findings WHERE id = ?');
    const ins = this.db.prepare('INSERT INTO findings (id, agent_id, kind, category, json, first_cycle_id, last_cycle_id, updated_us) VALUES (?,?,?,?,?,?,?,?)');
    const upd = this.db.prepare('UPDATE findings SET agent_id = ?, kind = ?, category = ?, json = ?, last_cycle_id = ?, updated_us = ? WHERE id = ?');
    const cyc = this.db.prepare('INSERT OR IGNORE INTO finding_cycles (finding_id, cycle_id) VALUES (?, ?)');
    const at = nowUs();
    this.db.transaction(() => {
      for (const f of findings) {
        const cur = get.get(f.id) as { first_cycle_id: string } | undefined;
        if (cur) {
          upd.run(f.agentId, f.kind, f.category, JSON.stringify(f), cycleId, at, f.id);
          if (!updated.includes(f.id)) updated.push(f.id);
        } else {
          ins.run(f.id, f.agentId, f.kind, f.category, JSON.stringify(f), cycleId, cycleId, at);
          inserted.push(f.id);
        }
        cyc.run(f.id, cycleId);
      }
    })();
    return { inserted, updated };
  }

  async get(id: string): Promise<(Finding & { firstCycleId: string; lastCycleId: string }) | undefined> {
    const r = this.db.prepare('SELECT json, first_cycle_id, last_cycle_id FROM findings WHERE id = ?').get(id) as { json: string; first_cycle_id: string; last_cycle_id: string } | undefined;
    return r ? { ...(JSON.parse(r.json) as Finding), firstCycleId: r.first_cycle_id, lastCycleId: r.last_cycle_id } : undefined;
  }

  async list(q: { cycleId?: string; category?: Finding['category']; agentId?: string; limit?: number } = {}): Promise<Finding[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    let from = 'findings';
    if (q.cycleId) {
      from = 'findings JOIN finding_cycles c ON c.finding_id = findings.id';
      where.push('c.cycle_id = ?');
      params.push(q.cycleId);
    }
    if (q.category) {
      where.push('category = ?');
      params.push(q.category);
    }
    if (q.agentId) {
      where.push('agent_id = ?');
      params.push(q.agentId);
    }
    const rows = this.db
      .prepare(`SELECT json FROM ${from}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY updated_us DESC, id${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`)
      .all(...params) as { json: string }[];
    return rows.map((r) => JSON.parse(r.json) as Finding);
  }
}
