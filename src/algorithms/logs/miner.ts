/**
 * Online log template miner: one pass, a template per line as it arrives (Drain family, masking first).
 *
 * 1. The line is tokenised and masked (mask.ts), so numbers, ids, addresses and paths never split groups.
 * 2. Exact cache: a masked token sequence seen before maps straight to its template (the hot path, one Map lookup).
 * 3. Otherwise candidates are the templates with the same token count and the same first token (Drain's tree,
 *    depth 2, as a hash). The best candidate is the one with most positions equal; the line joins it when enough
 *    positions agree and every disagreement is between value-like tokens (digits or wildcards), or between words
 *    at positions where the template already varies. Words that differ elsewhere start a new template: telling
 *    "VM Started" from "VM Paused" matters more to the corrected truth than merging rare word-valued variables.
 * 4. A position that varies becomes `<*>`, keeping the punctuation both values share at their edges (`<*>,`).
 *    When a template generalises it may become equal to another one; the two merge and the younger id becomes an
 *    alias of the older, so ids handed out earlier stay valid (`resolve`).
 * 5. Word-valued variables (the general weakness of Drain-style parsers; Brain, Yu et al. 2023, attacks it with
 *    frequency groups, here it is done online): templates equal but for one word form a family, which merges
 *    when it reaches `familySize` distinct words (not when they are all past participles: `VM Started|Paused`
 *    are events), when one member already holds a value there (so a variable first token, which opens a new
 *    bucket, still finds its template), when its words are numbered names (`bglio716|bglio91`), or when every
 *    word is a known value: the value vocabulary remembers words that stood for a variable anywhere, and a
 *    family is re-examined when one of its words becomes known.
 *
 * Bounds: the line is cut at MAX_LINE_CHARS and MAX_TOKENS; at most `maxTemplates` templates live (least recently
 * used ones are evicted) and the exact cache holds at most `maxCacheEntries` keys (cleared when full), so memory
 * is bounded whatever arrives, and the work per line is bounded by the bucket size cap `maxBucket`.
 */
import { WILDCARD, maskLine, renderTemplate, looksVariable } from './mask.js';

export interface MinerOptions {
  /** Minimum fraction of equal positions for a line to join a template. */
  similarity?: number;
  maxTemplates?: number;
  maxCacheEntries?: number;
  /** At most this many templates are compared per new line (the most recently used in the bucket). */
  maxBucket?: number;
  /** How many positions may differ word-against-word (neither value-like) for a line to join a template. */
  maxWordDiffs?: number;
  /** Remember raw lines seen (bounded) so exact repeats skip masking; off to measure the masking path alone. */
  dedupLines?: boolean;
  /** Distinct words at one position after which templates differing only there merge into one (see joinFamilies). */
  familySize?: number;
}

export interface MinedTemplate {
  id: string;
  template: string;
  tokens: string[];
  count: number;
  firstSeq: number;
  lastSeq: number;
}

export interface AddResult {
  /** Stable id of the template the line belongs to (never an alias). */
  id: string;
  template: string;
  /** The template did not exist before this line. */
  created: boolean;
  /** The template's text changed with this line (it generalised). */
  changed: boolean;
}

export interface MinerState {
  version: 1;
  nextId: number;
  seq: number;
  options: Required<MinerOptions>;
  templates: { id: string; tokens: string[]; count: number; firstSeq: number; lastSeq: number }[];
  aliases: [string, string][];
  /** The most recent known value words (optional: states written before it existed load without it). */
  valueWords?: string[];
}

/** Value words kept in a saved state (the newest ones). */
const MAX_SAVED_VALUE_WORDS = 10_000;

interface Cluster {
  id: string;
  tokens: string[];
  count: number;
  firstSeq: number;
  lastSeq: number;
  bucket: string;
  text: string;
}

const DEFAULTS: Required<MinerOptions> = {
  similarity: 0.5,
  maxTemplates: 50_000,
  maxCacheEntries: 200_000,
  maxBucket: 512,
  maxWordDiffs: 0,
  familySize: 4,
  dedupLines: true,
};

const MAX_DEDUP_CHARS = 512;

/** Longer lines skip family detection: their keys cost O(tokens^2) characters. */
const MAX_FAMILY_TOKENS = 48;
const MIN_FAMILY_CONTEXT = 3;

interface Family {
  members: Cluster[];
  /** The position that varies and the token count of every member. */
  pos: number;
  n: number;
}

/** Most values learned and families indexed per word; both maps are cleared when full (bounded memory). */
const MAX_VALUE_WORDS = 100_000;
const MAX_FAMILIES_PER_WORD = 32;
/** Families re-examined per line at most, so a cascade of merges stays bounded. */
const MAX_RECHECKS = 64;

/** A word stripped of the punctuation that frames it: `(cyrus)`, `cyrus,` and `cyrus` are the same value. */
function wordCore(t: string): string {
  let a = 0;
  let b = t.length;
  while (a < b && isFrame(t[a])) a++;
  while (b > a && isFrame(t[b - 1])) b--;
  return t.slice(a, b);
}

/** Past participles name what happened (`VM Started|Paused|Stopped`, `session opened|closed`): events, not values. */
const EVENT_WORD_RE = /^[A-Za-z]{2,}ed$/;

/**
 * `bglio716|bglio91`, `U01|U11`, `IRQ0|IRQ2|IRQ9`: one name with different numbers (two or more digits, or
 * three or more names). The number varies, so the word is a value (a numbered host, device or slot).
 */
function numberedVariants(words: ReadonlySet<string>): boolean {
  let prefix: string | undefined;
  let long = false;
  for (const w of words) {
    const m = NUMBERED_NAME_RE.exec(wordCore(w));
    if (!m) return false;
    if (prefix === undefined) prefix = m[1];
    else if (m[1] !== prefix) return false;
    if (m[2].length >= 2) long = true;
  }
  // Two single digits are as often versions or kinds as instances (`IPV4|IPV6`); three are instances (`IRQ0|2|9`).
  return long || words.size >= 3;
}
const NUMBERED_NAME_RE = /^([A-Za-z]+)(\d+)$/;

function familyKey(tokens: readonly string[], i: number): string {
  return `${i}\u0001${tokens.slice(0, i).join(' ')}\u0001${tokens.slice(i + 1).join(' ')}`;
}

/** Punctuation that may frame a value; letters, digits and the wildcard's own characters never do. */
function isFrame(ch: string): boolean {
  return !/[A-Za-z0-9<>*_]/.test(ch);
}

/**
 * Generalises two differing tokens: the common prefix up to its last framing punctuation mark and the common
 * suffix from its first one stay around the wildcard: `(a)`,`(b)` → `(<*>)`, `rhost=a`,`rhost=b` → `rhost=<*>`,
 * `cyrus`,`news` → `<*>`.
 */
export function generaliseToken(a: string, b: string): string {
  if (a === b) return a;
  let q = 0;
  while (q < a.length && q < b.length && a[q] === b[q]) q++;
  let p = q;
  while (p > 0 && !isFrame(a[p - 1])) p--;
  const room = Math.min(a.length, b.length) - p;
  let r = 0;
  while (r < room && a[a.length - 1 - r] === b[b.length - 1 - r]) r++;
  let s = r;
  while (s > 0 && !isFrame(a[a.length - s])) s--;
  return a.slice(0, p) + WILDCARD + a.slice(a.length - s);
}

/**
 * `key=a` and `key=b`: the same field with different values. (Not `key:a`, which is as often a qualified name,
 * `action:android.intent.action.SCREEN_ON`, as a field.)
 */
function sameKey(a: string, b: string): boolean {
  const i = a.indexOf('=');
  return i > 0 && i < a.length - 1 && i < b.length - 1 && b.charCodeAt(i) === 61 && a.slice(0, i) === b.slice(0, i) && (looksVariable(a) === looksVariable(b) || wordyValue(a) || wordyValue(b));
}

/**
 * A field value generalised from words (`name=com.android.<*>`) still takes words; one that holds only a value
 * (`tty=:<*>`) does not take a bare word (`tty=NODEVssh` is another event in the guideline truth).
 */
function wordyValue(t: string): boolean {
  const i = t.indexOf('=');
  return t.includes(WILDCARD) && /[A-Za-z]/.test(t.slice(i + 1).replace(WILDCARD, ''));
}

/** `(<*>)` and `()`: the same slot, once empty. */
function emptyValue(withValue: string, other: string): boolean {
  const i = withValue.indexOf(WILDCARD);
  return i >= 0 && withValue.length - 3 === other.length && withValue.slice(0, i) + withValue.slice(i + 3) === other;
}

/**
 * `(<*>)` and `(aadmin1)`: a slot the template already generalised (one wildcard with its framing) takes any
 * value in the same framing, words included; the bare `<*>` case is handled by the caller. Checked both ways, so
 * a word template meeting a value line in the same framing (`"host.local"` then `"<*>"`) joins as well: the
 * result does not depend on which came first.
 */
function fitsSlot(slot: string, v: string): boolean {
  const i = slot.indexOf(WILDCARD);
  if (i < 0 || slot.indexOf(WILDCARD, i + 3) >= 0) return false;
  const pre = slot.slice(0, i);
  const post = slot.slice(i + 3);
  return v.length > pre.length + post.length && v.startsWith(pre) && v.endsWith(post);
}

/**
 * Two value-holding tokens are one slot unless they are fields with different keys: `id=<*>`/`id=<*>,` are,
 * `phoneId=<*>`/`retVal=<*>` are not (a different field is a different event).
 */
function sameField(a: string, b: string): boolean {
  const i = a.indexOf('=');
  const j = b.indexOf('=');
  if (i <= 0 || j <= 0) return true;
  return a.slice(0, i) === b.slice(0, j) || looksVariable(a.slice(0, i)) || looksVariable(b.slice(0, j));
}

function bucketKey(tokens: readonly string[]): string {
  const first = tokens[0] ?? '';
  return `${tokens.length}|${looksVariable(first) ? '' : first}`;
}

export class TemplateMiner {
  private readonly opts: Required<MinerOptions>;
  private readonly clusters = new Map<string, Cluster>();
  private readonly buckets = new Map<string, Cluster[]>();
  private readonly byText = new Map<string, Cluster>();
  private readonly cache = new Map<string, Cluster>();
  /** Exact repeats of a raw line (health checks, retries) skip masking altogether. */
  private readonly rawCache = new Map<string, Cluster>();
  private readonly aliases = new Map<string, string>();
  /** Family key -> its only template so far (most families never get a second one), or the family. */
  private readonly families = new Map<string, Cluster | Family>();
  /**
   * Value vocabulary: words seen standing for a variable (absorbed into a wildcard, or the members of a family
   * that merged). A family whose words are all known values merges however few they are (`session opened for
   * user cyrus|news|test` once `session closed for user <*>` has shown those names to be values).
   */
  private readonly valueWords = new Set<string>();
  /** Word -> family keys holding it, so a word that becomes a value re-examines the families it is in. */
  private readonly wordFamilies = new Map<string, Set<string>>();
  private pendingWords: string[] = [];
  private nextId = 1;
  private seq = 0;

  constructor(options: MinerOptions = {}) {
    this.opts = { ...DEFAULTS, ...options };
    if (!(this.opts.similarity > 0 && this.opts.similarity <= 1)) throw new Error(`similarity must be in (0, 1], got ${this.opts.similarity}`);
    for (const k of ['maxTemplates', 'maxCacheEntries', 'maxBucket', 'familySize'] as const) {
      if (!Number.isInteger(this.opts[k]) || this.opts[k] < 1) throw new Error(`${k} must be a positive integer, got ${this.opts[k]}`);
    }
  }

  get size(): number {
    return this.clusters.size;
  }

  /** Mines one line: returns its template (creating or generalising one as needed). */
  add(line: string): AddResult {
    this.seq++;
    const rawKey = this.opts.dedupLines && line.length <= MAX_DEDUP_CHARS ? line : undefined;
    if (rawKey !== undefined) {
      const dup = this.rawCache.get(rawKey);
      if (dup !== undefined && this.clusters.get(dup.id) === dup) {
        dup.count++;
        dup.lastSeq = this.seq;
        return { id: dup.id, template: dup.text, created: false, changed: false };
      }
    }
    const tokens = maskLine(line);
    const key = tokens.join(' ');
    const hit = this.cache.get(key);
    if (hit !== undefined && this.clusters.get(hit.id) === hit) {
      hit.count++;
      hit.lastSeq = this.seq;
      if (rawKey !== undefined) this.rawSet(rawKey, hit);
      return { id: hit.id, template: hit.text, created: false, changed: false };
    }
    const bkey = bucketKey(tokens);
    let bucket = this.buckets.get(bkey);
    if (!bucket) {
      bucket = [];
      this.buckets.set(bkey, bucket);
    }
    const best = this.bestMatch(bucket, tokens);
    let result: AddResult;
    let cluster: Cluster;
    if (best) {
      cluster = best;
      const before = cluster.text;
      for (let i = 0; i < tokens.length; i++) {
        const t = cluster.tokens[i];
        const v = tokens[i];
        if (t === v) continue;
        if (!looksVariable(v)) this.learnValue(v);
        if (!looksVariable(t)) this.learnValue(t);
        cluster.tokens[i] = generaliseToken(t, v);
      }
      cluster.count++;
      cluster.lastSeq = this.seq;
      const text = renderTemplate(cluster.tokens);
      const changed = text !== before;
      if (changed) {
        cluster = this.retext(cluster, text);
      }
      result = { id: cluster.id, template: cluster.text, created: false, changed };
    } else {
      cluster = {
        id: `T${this.nextId++}`,
        tokens: tokens.slice(),
        count: 1,
        firstSeq: this.seq,
        lastSeq: this.seq,
        bucket: bkey,
        text: renderTemplate(tokens),
      };
      const same = this.byText.get(cluster.text);
      if (same) {
        // Another bucket already prints this text (e.g. a variable first token): one template, not two.
        same.count++;
        same.lastSeq = this.seq;
        this.cacheSet(key, same);
        return { id: same.id, template: same.text, created: false, changed: false };
      }
      this.clusters.set(cluster.id, cluster);
      this.byText.set(cluster.text, cluster);
      bucket.push(cluster);
      if (this.clusters.size > this.opts.maxTemplates) this.evict();
      const merged = this.joinFamilies(cluster);
      result = merged === cluster
        ? { id: cluster.id, template: cluster.text, created: true, changed: false }
        : { id: merged.id, template: merged.text, created: false, changed: true };
      cluster = merged;
    }
    if (this.pendingWords.length > 0) {
      this.recheckFamilies();
      if (this.clusters.get(cluster.id) !== cluster) {
        // A family it belonged to merged while re-examining: report the template it is now part of.
        const live = this.clusters.get(this.resolve(cluster.id) ?? '');
        if (live) {
          cluster = live;
          result = { id: live.id, template: live.text, created: false, changed: true };
        }
      }
    }
    this.cacheSet(key, cluster);
    if (rawKey !== undefined) this.rawSet(rawKey, cluster);
    return result;
  }

  private learnValue(token: string): void {
    const w = wordCore(token);
    if (w.length === 0 || this.valueWords.has(w)) return;
    if (this.valueWords.size >= MAX_VALUE_WORDS) this.valueWords.clear();
    this.valueWords.add(w);
    if (this.wordFamilies.has(w)) this.pendingWords.push(w);
  }

  /** Families holding words that just became known values may now merge (bounded work per line). */
  private recheckFamilies(): void {
    let budget = MAX_RECHECKS;
    while (this.pendingWords.length > 0 && budget > 0) {
      const w = this.pendingWords.pop()!;
      const fks = this.wordFamilies.get(w);
      if (!fks) continue;
      for (const fk of [...fks]) {
        if (budget-- <= 0) break;
        const fam = this.families.get(fk);
        if (!fam || !('members' in fam)) fks.delete(fk);
        else this.mergeFamily(fk, fam);
      }
    }
    this.pendingWords = [];
  }

  private rawSet(line: string, c: Cluster): void {
    if (this.rawCache.size >= this.opts.maxCacheEntries) this.rawCache.clear();
    this.rawCache.set(line, c);
  }

  private cacheSet(key: string, c: Cluster): void {
    if (this.cache.size >= this.opts.maxCacheEntries) this.cache.clear();
    this.cache.set(key, c);
  }

  private bestMatch(bucket: Cluster[], tokens: readonly string[]): Cluster | undefined {
    let best: Cluster | undefined;
    let bestScore = -1;
    const n = tokens.length;
    const start = Math.max(0, bucket.length - this.opts.maxBucket);
    for (let b = bucket.length - 1; b >= start; b--) {
      const c = bucket[b];
      let equal = 0;
      let words = 0;
      let ok = true;
      for (let i = 0; i < n; i++) {
        const t = c.tokens[i];
        const v = tokens[i];
        if (t === v) {
          equal++;
          continue;
        }
        if (t === WILDCARD) continue;
        if (looksVariable(t) && looksVariable(v) && sameField(t, v)) continue;
        if (sameKey(t, v) || emptyValue(t, v) || emptyValue(v, t) || fitsSlot(t, v) || fitsSlot(v, t)) continue;
        if (++words > this.opts.maxWordDiffs) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      const score = n === 0 ? 1 : equal / n;
      if (score >= this.opts.similarity && score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return best;
  }

  /**
   * Word-valued variables (user names, host names): templates that differ from each other in one word position
   * only form a family; once a family has `familySize` distinct words at that position, the position is a
   * variable and the family becomes one template (the younger ids alias the oldest). Fewer distinct words stay
   * separate templates ("VM Started" / "VM Paused" are different events), unless every one of the words is already
   * known as a value (the value vocabulary, `valueWords`): then the family merges at two members. Families are
   * re-examined when one of their words becomes a known value later, so the order lines arrive in matters less.
   */
  private joinFamilies(c: Cluster): Cluster {
    const n = c.tokens.length;
    if (n < 2 || n > MAX_FAMILY_TOKENS) return c;
    // A word is judged a variable only against enough fixed words around it: `onStandStepChanged <*>` and
    // `isScreenOn <*>` share no context and are different events.
    let fixed = 0;
    for (const t of c.tokens) if (!looksVariable(t)) fixed++;
    if (fixed - 1 < MIN_FAMILY_CONTEXT) return c;
    for (let i = 0; i < n; i++) {
      const w = c.tokens[i];
      const variable = looksVariable(w);
      const fk = familyKey(c.tokens, i);
      const entry = this.families.get(fk);
      // A value here joins a family that exists (its position is then known to vary) but never opens one.
      if (variable && !entry) continue;
      if (!entry) {
        if (this.families.size >= this.opts.maxTemplates * 4) {
          this.families.clear();
          this.wordFamilies.clear();
        }
        // The first template of a family is stored bare and its word not indexed: all-unique lines (the common
        // hostile case) then cost one map entry per position and nothing more.
        this.families.set(fk, c);
        continue;
      }
      let fam: Family;
      if ('members' in entry) {
        fam = entry;
        if (!fam.members.includes(c)) fam.members.push(c);
      } else {
        if (entry === c) continue;
        fam = { members: [entry, c], pos: i, n };
        this.families.set(fk, fam);
        if (!looksVariable(entry.tokens[i])) this.indexWord(wordCore(entry.tokens[i]), fk);
      }
      if (!variable) this.indexWord(wordCore(w), fk);
      const merged = this.mergeFamily(fk, fam);
      if (merged) return merged;
    }
    return c;
  }

  private indexWord(w: string, fk: string): void {
    let set = this.wordFamilies.get(w);
    if (!set) {
      if (this.wordFamilies.size >= MAX_VALUE_WORDS) this.wordFamilies.clear();
      set = new Set();
      this.wordFamilies.set(w, set);
    }
    if (set.size < MAX_FAMILIES_PER_WORD) set.add(fk);
  }

  /**
   * Merges a family when its position is known to vary: `familySize` distinct words, a member already holding the
   * wildcard there, or every word a known value. Returns the surviving (oldest) template, or undefined.
   */
  private mergeFamily(fk: string, fam: Family): Cluster | undefined {
    const i = fam.pos;
    const live = fam.members.filter((m) => this.clusters.get(m.id) === m && m.tokens.length === fam.n && familyKey(m.tokens, i) === fk);
    if (live.length !== fam.members.length) fam.members = live;
    if (live.length < 2) return undefined;
    const words = new Set(live.map((m) => m.tokens[i]));
    // A member already generalised there (it holds the wildcard) means the position is known to vary.
    const known = live.some((m) => looksVariable(m.tokens[i]));
    const valued = !known && ([...words].every((w) => this.valueWords.has(wordCore(w))) || numberedVariants(words));
    if (!known && !valued && (words.size < this.opts.familySize || [...words].every((w) => EVENT_WORD_RE.test(w)))) return undefined;
    live.sort((a, b) => a.firstSeq - b.firstSeq);
    const keep = live[0];
    let tok = keep.tokens[i];
    for (const m of live.slice(1)) {
      tok = generaliseToken(tok, m.tokens[i]);
      keep.count += m.count;
      keep.lastSeq = Math.max(keep.lastSeq, m.lastSeq);
      this.removeCluster(m);
      this.aliases.set(m.id, keep.id);
    }
    // The merged template stays in its family: a later template differing only there joins it at once (this is
    // how a variable first token, which opens a new bucket, finds its template).
    fam.members = [keep];
    for (const w of words) if (!looksVariable(w)) this.learnValue(w);
    const tokens = keep.tokens.slice();
    tokens[i] = tok;
    keep.tokens = tokens;
    return this.retext(keep, renderTemplate(tokens));
  }

  /** Updates a cluster's text; when another template already prints it, merges into the older one. */
  private retext(c: Cluster, text: string): Cluster {
    this.byText.delete(c.text);
    const other = this.byText.get(text);
    if (other && other !== c) {
      const [keep, drop] = other.firstSeq <= c.firstSeq ? [other, c] : [c, other];
      keep.count += drop.count;
      keep.firstSeq = Math.min(keep.firstSeq, drop.firstSeq);
      keep.lastSeq = Math.max(keep.lastSeq, drop.lastSeq);
      keep.tokens = c.tokens;
      keep.text = text;
      this.removeCluster(drop);
      this.aliases.set(drop.id, keep.id);
      this.byText.set(text, keep);
      return keep;
    }
    c.text = text;
    this.byText.set(text, c);
    return c;
  }

  private removeCluster(c: Cluster): void {
    this.clusters.delete(c.id);
    if (this.byText.get(c.text) === c) this.byText.delete(c.text);
    const bucket = this.buckets.get(c.bucket);
    if (bucket) {
      const i = bucket.indexOf(c);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) this.buckets.delete(c.bucket);
    }
  }

  /** Drops the least recently used tenth of templates (amortised O(1) per line). */
  private evict(): void {
    const all = [...this.clusters.values()].sort((a, b) => a.lastSeq - b.lastSeq);
    const n = Math.max(1, Math.floor(all.length / 10));
    for (let i = 0; i < n; i++) this.removeCluster(all[i]);
    // Cached keys may point at evicted clusters; `add` checks liveness, but free the memory now.
    this.cache.clear();
    this.rawCache.clear();
  }

  /** The live id an id (possibly an alias of a merged template) stands for now; undefined when evicted/unknown. */
  resolve(id: string): string | undefined {
    let cur = id;
    for (let hops = 0; hops < 64; hops++) {
      if (this.clusters.has(cur)) return cur;
      const next = this.aliases.get(cur);
      if (next === undefined) return undefined;
      cur = next;
    }
    return undefined;
  }

  get(id: string): MinedTemplate | undefined {
    const live = this.resolve(id);
    const c = live === undefined ? undefined : this.clusters.get(live);
    return c ? toMined(c) : undefined;
  }

  templates(): MinedTemplate[] {
    return [...this.clusters.values()].map(toMined);
  }

  aliasMap(): ReadonlyMap<string, string> {
    return this.aliases;
  }

  toJSON(): MinerState {
    return {
      version: 1,
      nextId: this.nextId,
      seq: this.seq,
      options: { ...this.opts },
      templates: [...this.clusters.values()].map((c) => ({ id: c.id, tokens: c.tokens.slice(), count: c.count, firstSeq: c.firstSeq, lastSeq: c.lastSeq })),
      aliases: [...this.aliases],
      valueWords: [...this.valueWords].slice(-MAX_SAVED_VALUE_WORDS),
    };
  }

  static fromJSON(state: MinerState): TemplateMiner {
    if (!state || state.version !== 1 || !Array.isArray(state.templates)) throw new Error('not a template miner state (version 1)');
    const m = new TemplateMiner(state.options);
    m.nextId = state.nextId;
    m.seq = state.seq;
    for (const t of state.templates) {
      const bucket = bucketKey(t.tokens);
      const c: Cluster = { ...t, tokens: t.tokens.slice(), bucket, text: renderTemplate(t.tokens) };
      m.clusters.set(c.id, c);
      m.byText.set(c.text, c);
      const list = m.buckets.get(bucket);
      if (list) list.push(c);
      else m.buckets.set(bucket, [c]);
    }
    for (const list of m.buckets.values()) list.sort((a, b) => a.lastSeq - b.lastSeq);
    for (const [from, to] of state.aliases) m.aliases.set(from, to);
    for (const w of state.valueWords ?? []) if (typeof w === 'string') m.valueWords.add(w);
    return m;
  }
}

function toMined(c: Cluster): MinedTemplate {
  return { id: c.id, template: c.text, tokens: c.tokens.slice(), count: c.count, firstSeq: c.firstSeq, lastSeq: c.lastSeq };
}

/** Mines a batch and returns, per line, the final template id and text (how parsers are scored offline). */
export function mineAll(lines: readonly string[], options?: MinerOptions): { ids: string[]; templates: string[]; miner: TemplateMiner } {
  const miner = new TemplateMiner(options);
  const raw = lines.map((l) => miner.add(l).id);
  const ids: string[] = [];
  const templates: string[] = [];
  for (const id of raw) {
    const t = miner.get(id);
    ids.push(t?.id ?? id);
    templates.push(t?.template ?? '');
  }
  return { ids, templates, miner };
}
