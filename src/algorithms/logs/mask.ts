/**
 * Variable masking for log lines, following the conventions of Khan et al. (ICSE 2022, "Guidelines for Assessing
 * the Accuracy of Log Message Template Identification Techniques") that the corrected Loghub ground truth uses:
 *
 * - a variable becomes `<*>`; punctuation around it that is not part of the value stays (`(<*>)`, `uid=<*>`, `<*>,`);
 * - whole-value kinds are one `<*>`: URLs, file paths, IPv4 with optional port, host:port, IPv6, UUIDs,
 *   identifiers with numeric `_` parts (block ids, job/container/attempt ids);
 * - otherwise every standalone number inside a token is masked on its own, so a time `12:03:44` stays
 *   `<*>:<*>:<*>` and a date `2017-07-02` stays `<*>-<*>-<*>`, while a dotted number (`6.1.7601`) is one value;
 * - a number glued to letters is part of a name (`awdl0`, `tty2`, `e820`) and is kept, unless the token switches
 *   between letters and digits three or more times (a generated id, `jA9JBVPb007417`) or is hex (`d1c8e63`,
 *   `ffffffff`);
 * - lists of one numbered name (`an14 an15 an16`), relative paths of three or more segments, a bound before a
 *   quantity (`<1 sec`), an HTTP request target with its version and a quoted field value with spaces
 *   (`tag="View Lock"`) are one value each;
 * - adjacent `<*><*>` collapse into one, and runs of spaces into one.
 *
 * One rule set for every kind of log: there is no per-format or per-dataset rule here (production logs do not come
 * labelled with their format). Written by hand because this is the analysis itself: no npm package masks to the
 * guideline conventions.
 */

export const WILDCARD = '<*>';

/** Hostile-input bounds: the work per line is O(MAX_LINE_CHARS) whatever arrives. */
export const MAX_LINE_CHARS = 4096;
export const MAX_TOKENS = 128;
export const MAX_TOKEN_CHARS = 256;

const URL_RE = /^[A-Za-z][\w+.-]*:\/\/\S*$/;
const PATH_RE = /^(?:[A-Za-z]:)?(?:[\\/][^\\/\s]*){2,}$|^(?:[A-Za-z]:)?[\\/][^\\/\s]*[A-Za-z0-9_.-][^\s]*$/;
/** A relative path: a name-like first segment and two or more further segments (`Nodes/cn304/pkts_out.rrd`). */
const REL_PATH_RE = /^[A-Za-z{][\w.{}@$~+-]*(?:[/\\][\w.{}@$~+-]+){2,}[/\\]?$/;
/** ... with four or more segments, or a digit or a file extension in it (`seq/ack/win` is three words). */
const REL_PATH_HINT_RE = /\d|\.[A-Za-z0-9]+$|(?:[/\\][^/\\]+){3,}/;
const IPV4_RE = /^\/?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?$/;
/** host:port, host/ip:port (`msra-sa-41:9000`, `proxy.example.org:5070`, `h-1/10.0.0.1:9000`). */
const HOST_PORT_RE = /^[A-Za-z0-9][A-Za-z0-9.-]*[.-][A-Za-z0-9.-]*(?:\/\d{1,3}(?:\.\d{1,3}){3})?:\d{2,5}$/;
/** A dotted host name with a digit in it (`cp-1.slowvm1.example.us`): numbered hosts are values. */
const HOST_RE = /^(?=[^.]*\d|.*\.[^.]*\d)[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+){2,}$/;
/** Numbers joined by underscores (`30546173_4261722401`) are one id. */
const NUM_JOIN_RE = /^\d+(?:_\d+)+$/;
const IPV6_RE = /^(?=[0-9A-Fa-f:]*(?:::|[0-9A-Fa-f]{4}))[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}$/;
/** MAC addresses (`00:1b:21:e3:ba:c3`, `00-1B-21-E3-BA-C3`). */
const MAC_RE = /^[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}$/;
const UUID_RE = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** `blk_-123`, `application_1445_0005`, `attempt_1445_0020_m_000002_0`: a name with numeric `_` parts. */
const ID_RE = /^[A-Za-z][A-Za-z0-9]*(?:_[-A-Za-z0-9]+)+$/;
/** Standalone numbers (decimal, dotted, signed, 0x-hex) and long hex strings inside a token. */
const NUM_RE = /(?<![A-Za-z0-9])(?:0[xX][0-9A-Fa-f]+|[-+]?\d+(?:[._]\d+)*|[0-9A-Fa-f]{8,}|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{6,7})(?![A-Za-z0-9])/g;
const BOOL_PROBE = /true|false|null|None/i;
const HEX_LETTERS_RE = /(?<![A-Za-z0-9])[A-Fa-f]{8,}(?![A-Za-z0-9])/;
/** Cheap pre-check so the date regex runs only on lines holding a clock time. */
const TIME_PROBE_RE = /\d:\d\d/;
/** A number with a unit glued on (`126MB`, `80x25`, `30s`, `1.5ms`): the whole thing is the value. */
const NUM_UNIT_RE = /^[-+]?\d+(?:\.\d+)?(?:[A-Za-z]{1,3}|x\d+)(?:\/\d+(?:\.\d+)?(?:[A-Za-z]{1,3})?)*$/;
/** Versions: `v2.0`, `2.6.5-1.358`, `3.3.3-7`. */
const VERSION_RE = /^(?:[vV]\d+(?:\.\d+)+|\d+(?:\.\d+)+(?:-[\d.]+)+)$/;
/** Booleans and null are values (the corrected truth masks `setLightsOn(true)` as `setLightsOn(<*>)`). */
const BOOL_RE = /(?<![A-Za-z0-9_])(?:true|false|null|True|False|TRUE|FALSE|NULL|None)(?![A-Za-z0-9_])/g;
/**
 * Dates and times spanning several tokens are one value: `Sun Jul  3 10:05:25 2005`, `2016-09-27 20:30:31.455`.
 * Applied to the whole line before tokenising.
 */
const DATETIME_RE =
  /(?:\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\s+\d{1,2},?\s+(?:\d{4}\s+)?\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s+(?:[A-Z]{3,4}\s+)?\d{4}\b)?|\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g;
const DIGIT_RE = /\d/;
const LEAD_RE = /^[([{<"'`]+/;
const TRAIL_RE = /[)\]}>"'`,;:.]+$/;
const WILD_RUN_RE = /(?:<\*>)+/g;
/** A field value made of two or more values joined by punctuation (no letters, no spaces). */
const FIELD_VALUES_RE = /^<\*>(?:[^A-Za-z0-9\s<>]+<\*>)+$/;
/** `<*>>` reads as a wildcard closing an angle bracket; the guideline truth writes it `<*>`. */
const WILD_CLOSE_RE = /<\*>>+/g;

/** Fast filter before the boolean regex: a boolean needs an `e`/`l` (true, false, null, None has `e` too). */
function mayHoldBool(s: string): boolean {
  return s.length >= 4 && (s.includes('e') || s.includes('E') || s.includes('l') || s.includes('L'));
}

/**
 * Generated ids (`jA9J1UvC004306`, queue ids, session keys) switch between letters and digits many times; names
 * with a number in them (`awdl0`, `IO80211Family`, `BGL64k`) switch once or twice.
 */
const ALNUM_RE = /^[A-Za-z0-9]{8,64}$/;
const ID_SWITCHES = 3;
function generatedId(core: string): boolean {
  if (!ALNUM_RE.test(core)) return false;
  let switches = 0;
  let prevDigit = core.charCodeAt(0) <= 57;
  for (let i = 1; i < core.length; i++) {
    const d = core.charCodeAt(i) <= 57;
    if (d !== prevDigit) switches++;
    prevDigit = d;
  }
  return switches >= ID_SWITCHES;
}

function wholeValue(core: string): boolean {
  if (core.length === 0) return false;
  if (generatedId(core)) return true;
  if (URL_RE.test(core)) return true;
  if (IPV4_RE.test(core) || HOST_PORT_RE.test(core) || UUID_RE.test(core) || NUM_JOIN_RE.test(core)) return true;
  if (HOST_RE.test(core) && /[A-Za-z]/.test(core) && !/^\d+(?:\.\d+)+$/.test(core)) return true;
  if (IPV6_RE.test(core) || MAC_RE.test(core)) return true;
  if (ID_RE.test(core)) {
    const rest = core.slice(core.indexOf('_'));
    if (DIGIT_RE.test(rest) || DIGIT_RE.test(core)) return true;
  }
  if ((core[0] === '/' || core[0] === '\\' || /^[A-Za-z]:\\/.test(core)) && PATH_RE.test(core)) return true;
  // A relative path of three or more segments (`Nodes/cn304/pkts_out.rrd`, `{id}GLOBALROOT/Device/Vol/x`).
  if (REL_PATH_RE.test(core) && REL_PATH_HINT_RE.test(core)) return true;
  return false;
}

/** A whole value, a number with its unit, a version, or whole values joined by `:` (`host-1.a.b:host-1.a.b`). */
function valueKind(core: string): boolean {
  if (wholeValue(core) || NUM_UNIT_RE.test(core) || VERSION_RE.test(core)) return true;
  let from = 0;
  let c = core.indexOf(':');
  if (c <= 0 || c === core.length - 1) return false;
  for (;;) {
    if (!wholeValue(core.slice(from, c < 0 ? core.length : c))) return false;
    if (c < 0) return true;
    from = c + 1;
    c = core.indexOf(':', from);
  }
}

const IP_IN_TOKEN_RE = /(?<![\d.])\/?\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\d.])/g;

function maskNumbers(core: string): string {
  if (core.includes('.')) core = core.replace(IP_IN_TOKEN_RE, WILDCARD);
  return core.replace(NUM_RE, WILDCARD);
}

/** Masks one whitespace-free token. Tokens with no digit, slash or backslash come back unchanged (fast path). */
export function maskToken(token: string): string {
  let probe = false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if ((c >= 48 && c <= 57) || c === 47 || c === 92) {
      probe = true;
      break;
    }
  }
  // Hex written with letters only (`mask=ffffffff`) is a number too; 8+ hex letters in a row is rarely a word.
  if (!probe && token.length >= 8 && HEX_LETTERS_RE.test(token)) probe = true;
  if (!probe) return mayHoldBool(token) && BOOL_PROBE.test(token) ? token.replace(BOOL_RE, WILDCARD) : token;
  if (token.length > MAX_TOKEN_CHARS) return WILDCARD;
  const lead = LEAD_RE.exec(token)?.[0] ?? '';
  let rest = token.slice(lead.length);
  const trail = TRAIL_RE.exec(rest)?.[0] ?? '';
  let core = rest.slice(0, rest.length - trail.length);
  if (valueKind(core)) {
    // A path may end in a dot (`part-00590.`); keep only the punctuation after it.
    return lead + WILDCARD + (core[0] === '/' ? trail.replace(/^\.+/, '') : trail);
  }
  // key=value and key:value pairs: the value may be a whole-value kind (rhost=10.0.0.1, path=/a/b).
  const eq = core.search(/[=:]/);
  if (eq > 0 && eq < core.length - 1 && valueKind(core.slice(eq + 1))) {
    return lead + maskNumbers(core.slice(0, eq + 1)) + WILDCARD + trail;
  }
  rest = maskNumbers(core);
  if (BOOL_PROBE.test(rest)) rest = rest.replace(BOOL_RE, WILDCARD);
  core = rest.replace(WILD_RUN_RE, WILDCARD);
  // `delay=00:00:01`, `steps=12##0##3`: a field whose value is values and punctuation only holds one value.
  const f = core.indexOf('=');
  if (f > 0 && f < core.length - 1 && FIELD_VALUES_RE.test(core.slice(f + 1)) && !core.slice(0, f).includes(WILDCARD)) {
    return lead + core.slice(0, f + 1) + WILDCARD + trail;
  }
  return lead + core + trail;
}

/** Splits a line into at most MAX_TOKENS whitespace-separated tokens; the rest of a longer line is one `<*>`. */
export function tokenize(line: string): string[] {
  let text = line.length > MAX_LINE_CHARS ? line.slice(0, MAX_LINE_CHARS) : line;
  if (TIME_PROBE_RE.test(text)) text = text.replace(DATETIME_RE, WILDCARD);
  const raw = text.split(/\s+/);
  const toks: string[] = [];
  for (const t of raw) {
    if (t.length === 0) continue;
    if (toks.length === MAX_TOKENS - 1) {
      toks.push(WILDCARD);
      return toks;
    }
    toks.push(t);
  }
  if (line.length > MAX_LINE_CHARS && toks[toks.length - 1] !== WILDCARD) toks.push(WILDCARD);
  return toks;
}

/** Tokenises and masks a line. Control characters and invalid UTF-8 replacement characters are treated as text. */
/**
 * Memo of masked tokens: words and common values repeat across lines far more than lines do, and a Map hit costs
 * a fraction of the regex work. Bounded: cleared when full.
 */
const tokenMemo = new Map<string, string>();
const TOKEN_MEMO_MAX = 100_000;

/** Most tokens a quoted field value may span (`tag="View Lock"`). */
const MAX_QUOTED_TOKENS = 8;

/**
 * `key="a b c"`: a quoted field value is one token even with spaces in it, so the field stays one slot whatever
 * the number of words in its value. Only a `key="` / `key='` opening counts, and only when the quote closes within
 * MAX_QUOTED_TOKENS tokens; other quotes are left alone (`"GET /a HTTP/1.1"` is a request line, not a field).
 */
function joinQuoted(toks: string[]): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const eq = t.indexOf('=');
    const q = eq > 0 ? t.charCodeAt(eq + 1) : 0;
    if ((q === 34 || q === 39) && t.indexOf(t[eq + 1], eq + 2) < 0) {
      const quote = t[eq + 1];
      let j = i + 1;
      while (j < toks.length && j - i <= MAX_QUOTED_TOKENS && !toks[j].includes(quote)) j++;
      if (j < toks.length && j - i <= MAX_QUOTED_TOKENS) {
        out ??= toks.slice(0, i);
        out.push(toks.slice(i, j + 1).join(' '));
        i = j;
        continue;
      }
    }
    out?.push(t);
  }
  return out ?? toks;
}

export function maskLine(line: string): string[] {
  const toks = line.indexOf('=') >= 0 && (line.includes('="') || line.includes("='")) ? joinQuoted(tokenize(line)) : tokenize(line);
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    let m = tokenMemo.get(t);
    if (m === undefined) {
      m = maskToken(t);
      if (tokenMemo.size >= TOKEN_MEMO_MAX) tokenMemo.clear();
      if (t.length <= 64) tokenMemo.set(t, m);
    }
    toks[i] = m;
  }
  return joinValues(toks);
}

/** First letters of the size units below (B, K, M, G, T, k, b), by char code: a cheap filter before the regex. */
const UNIT_START = new Uint8Array(128);
for (const c of 'BKMGTkb') UNIT_START[c.charCodeAt(0)] = 1;
/** Size units written as their own token after a number: `5.2 KB`, `1190 bytes (1.16 KB)` are one value. */
const SIZE_UNIT_RE = /^(?:B|KB|MB|GB|TB|kB|KiB|MiB|GiB|bytes)([,;.)\]]*)$/;
/**
 * A bound written before a quantity (`<1 sec`, `>=5 ms`, `~3 min`): the comparator, the number and its unit are
 * one value (the lifetime `00:01` and the lifetime `<1 sec` are the same slot). A bare unit after a plain number
 * stays a word (`took <*> ms`), as the guideline truth writes it.
 */
const BOUND_RE = /^(?:<|>|<=|>=|~)<\*>$/;
const UNIT_WORD_RE = /^(?:ns|us|ms|s|sec|secs|seconds?|min|mins|minutes?|h|hrs?|hours?|days?|B|KB|MB|GB|TB|kB|bytes)([,;.)\]]*)$/;
/** Runs of at least this many bare wildcards are a variable-length list (`delete blk_1 blk_2 ...`): one value. */
export const LIST_RUN = 5;

/**
 * `"GET /a/b HTTP/1.1"`: in a request line the target and the protocol version are one field (the truth prints
 * `"GET <*>"`), so a masked target followed by `HTTP/<*>` is one value.
 */
const HTTP_VERSION_RE = /^HTTP\/<\*>(["',;)\]]*)$/;
/** A numbered name (`an14`, `eth0`, `dadmin3`): letters then digits, maybe a list comma. */
const NUMBERED_RE = /^([A-Za-z]+)\d+,?$/;
/**
 * Runs of at least this many numbered names with one prefix (`an14 an15 an16`, `eth0 eth1 eth2`) are a list of
 * names: one value. A single numbered name stays a name (`awdl0 up`).
 */
export const NAME_LIST_RUN = 3;

/** Length of the run of numbered names sharing a prefix that starts at i (0 when none). */
function nameRun(toks: readonly string[], i: number): number {
  const t = toks[i];
  // Cheap pre-check: ends in a digit, or in a digit and a comma.
  let last = t.charCodeAt(t.length - 1);
  if (last === 44 && t.length > 1) last = t.charCodeAt(t.length - 2);
  if (!(last >= 48 && last <= 57)) return 0;
  const m = NUMBERED_RE.exec(t);
  if (!m) return 0;
  const prefix = m[1];
  let j = i + 1;
  while (j < toks.length) {
    const n = NUMBERED_RE.exec(toks[j]);
    if (!n || n[1] !== prefix) break;
    j++;
  }
  return j - i;
}

function joinValues(toks: string[]): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    const c0 = t.charCodeAt(0);
    if (((c0 >= 65 && c0 <= 90) || (c0 >= 97 && c0 <= 122)) && i + NAME_LIST_RUN <= toks.length) {
      const run = nameRun(toks, i);
      if (run >= NAME_LIST_RUN) {
        out ??= toks.slice(0, i);
        out.push(WILDCARD);
        i += run - 1;
        continue;
      }
    }
    if (t === WILDCARD && i + 1 < toks.length && toks[i + 1].charCodeAt(0) === 72) {
      const h = HTTP_VERSION_RE.exec(toks[i + 1]);
      if (h) {
        out ??= toks.slice(0, i);
        out.push(WILDCARD + h[1]);
        i++;
        continue;
      }
    }
    if (t === WILDCARD && i + 1 < toks.length && UNIT_START[toks[i + 1].charCodeAt(0)] === 1) {
      const u = SIZE_UNIT_RE.exec(toks[i + 1]);
      if (u) {
        out ??= toks.slice(0, i);
        let j = i + 2;
        let tail = u[1];
        // `1190 bytes (1.16 KB)`: the parenthesised conversion is the same value again.
        if (tail === '' && toks[j] === '(<*>' && j + 1 < toks.length && /^(?:B|KB|MB|GB|TB|kB)\)/.test(toks[j + 1])) {
          tail = toks[j + 1].slice(toks[j + 1].indexOf(')') + 1);
          j += 2;
        }
        out.push(WILDCARD + tail);
        i = j - 1;
        continue;
      }
    }
    if (i + 1 < toks.length && (t.length === 4 || t.length === 5) && (c0 === 60 || c0 === 62 || c0 === 126) && BOUND_RE.test(t)) {
      const u = UNIT_WORD_RE.exec(toks[i + 1]);
      if (u) {
        out ??= toks.slice(0, i);
        out.push(WILDCARD + u[1]);
        i++;
        continue;
      }
    }
    if (t === WILDCARD) {
      let j = i;
      while (j < toks.length && toks[j] === WILDCARD) j++;
      if (j - i >= LIST_RUN) {
        out ??= toks.slice(0, i);
        out.push(WILDCARD);
        i = j - 1;
        continue;
      }
    }
    out?.push(t);
  }
  return out ?? toks;
}

/** Renders a template the way the guidelines print it: single spaces, adjacent wildcards collapsed. */
export function renderTemplate(tokens: readonly string[]): string {
  return tokens.join(' ').replace(WILD_RUN_RE, WILDCARD).replace(WILD_CLOSE_RE, WILDCARD);
}

export function isWildcardToken(t: string): boolean {
  return t === WILDCARD;
}

/**
 * True when a masked token holds a value. Digits that survived masking are part of a name (`IPV6`, `wl0`), so
 * only the wildcard counts.
 */
export function looksVariable(t: string): boolean {
  return t.includes(WILDCARD);
}
