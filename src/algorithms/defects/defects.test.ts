import { test } from 'node:test';
import assert from 'node:assert/strict';
import { featuresAt, isFeature, labelRows, type Commit, type FileRow } from './features.js';
import { predict, trainLogistic, trainLogisticByWindow } from './model.js';

const DAY = 86_400;
let n = 0;
const commit = (day: number, message: string, files: [string, number, number][], author = 'a'): Commit => ({
  sha: `c${n++}`,
  time: day * DAY,
  author,
  parents: 1,
  message,
  files: files.map(([path, added, deleted]) => ({ path, added, deleted })),
});

test('features use only commits before the cut; labels only fixes in the window after it', () => {
  const history = [
    commit(1, 'init', [['lib/a.js', 100, 0], ['lib/b.js', 50, 0], ['lib/c.js', 10, 0]]),
    commit(100, 'fix: crash in a', [['lib/a.js', 3, 1]]),
    commit(200, 'feat: b grows', [['lib/b.js', 30, 0]], 'b'),
  ];
  const after = [commit(250, 'fix: b breaks', [['lib/b.js', 1, 1]]), commit(500, 'fix: c late', [['lib/c.js', 1, 1]])];
  const cut = 220 * DAY;
  const a = featuresAt(history, cut);
  const b = featuresAt([...history, ...after], cut);
  assert.deepEqual(a, b);
  const labelled = labelRows(b, [...history, ...after], cut, 180);
  assert.deepEqual(labelled.filter((r) => r.label).map((r) => r.path), ['lib/b.js']);
  const row = (p: string): FileRow => a.find((r) => r.path === p)!;
  assert.equal(row('lib/b.js').loc, 80);
  assert.ok(row('lib/a.js').features.fix_decay! > 0 && row('lib/b.js').features.fix_decay === 0);
  assert.equal(row('lib/b.js').features.log_feats_365, Math.log1p(1));
  // The directory prior counts the other files of lib/: one of the two others (a) was fixed within the year.
  assert.equal(row('lib/b.js').features.dir_fix_share, 0.5);
  assert.equal(row('lib/a.js').features.dir_fix_share, 0);
  assert.ok(isFeature('feat(router): streaming') && isFeature('New: rule no-foo') && !isFeature('fix: x'));
});

test('a fix sweep across many files counts little per file; focused fixes count fully', () => {
  const files: [string, number, number][] = Array.from({ length: 50 }, (_, i) => [`src/f${i}.ts`, 10, 0]);
  const h = [commit(1, 'init', files), commit(10, 'fix: rename the error codes everywhere', files.map(([p]) => [p, 1, 1])), commit(11, 'fix: null deref', [['src/f0.ts', 2, 1]])];
  const rows = featuresAt(h, 12 * DAY);
  const f0 = rows.find((r) => r.path === 'src/f0.ts')!.features;
  const f1 = rows.find((r) => r.path === 'src/f1.ts')!.features;
  assert.ok(Math.abs(f1.spread_fix_decay! - Math.log1p(0.1 * 0.5 ** (2 / 180))) < 1e-9, String(f1.spread_fix_decay));
  assert.ok(f0.spread_fix_decay! > 5 * f1.spread_fix_decay!);
  assert.equal(f0.log_fixes_365, Math.log1p(2));
});

test("Hassan's change entropy: files changed in scattered periods score by their share; lone changes add nothing", () => {
  const h = [commit(1, 'init', [['src/a.ts', 10, 0], ['src/b.ts', 10, 0], ['src/c.ts', 10, 0], ['src/d.ts', 10, 0]])];
  // Days 40–69: a, b, c, d once each (normalised entropy 1, share 1/4 each).
  h.push(commit(40, 'x', [['src/a.ts', 1, 0], ['src/b.ts', 1, 0], ['src/c.ts', 1, 0], ['src/d.ts', 1, 0]]));
  // Days 80–109: b three times, a once (entropy of (3/4, 1/4) / log 2 ≈ 0.81; b gets 3/4 of it, a 1/4).
  for (let i = 0; i < 3; i++) h.push(commit(80 + i, 'y', [['src/b.ts', 1, 0]]));
  h.push(commit(85, 'y', [['src/a.ts', 1, 0]]));
  // Days 120–149: d alone, five times — a period with one file has no entropy.
  for (let i = 0; i < 5; i++) h.push(commit(120 + i, 'z', [['src/d.ts', 1, 0]]));
  const rows = featuresAt(h, 160 * DAY);
  const e = (p: string): number => rows.find((r) => r.path === p)!.features.change_entropy!;
  assert.ok(e('src/b.ts') > e('src/a.ts') && e('src/a.ts') > e('src/c.ts') && e('src/c.ts') > 0, JSON.stringify(['a', 'b', 'c', 'd'].map((x) => e(`src/${x}.ts`))));
  assert.ok(Math.abs(e('src/d.ts') - e('src/c.ts')) < 1e-12);
});

test('window intercepts: a feature that only tracks which window a row is from gets no weight', () => {
  // Two windows: in the sweep window most files are positive and files are larger on the whole; in the other 10%.
  // Within each window the label depends on `signal` alone; `size` only tells the windows apart.
  const rows = (k: number, rate: number, size: number): FileRow[] =>
    Array.from({ length: 400 }, (_, i) => {
      const signal = (i % 20) / 20;
      const label = ((i * 7919) % 1000) / 1000 < rate * (0.5 + signal);
      return { path: `f${i}`, loc: 100, features: { signal, size: size + ((i * 31) % 100) / 25 }, label };
    });
  const windows = [rows(0, 0.1, 0), rows(1, 0.6, 2)];
  const pooled = trainLogistic(windows.flat(), ['signal', 'size'], 1);
  const fe = trainLogisticByWindow(windows, ['signal', 'size'], 1);
  assert.ok(Math.abs(pooled.weights[1]!) > 0.5, `pooled logit leans on size: ${pooled.weights[1]}`);
  assert.ok(Math.abs(fe.weights[1]!) < 0.15, `window-intercept logit does not: ${fe.weights[1]}`);
  assert.ok(fe.weights[0]! > 0.3);
  // The returned intercept is the most recent window's (windows[0], base rate ~10%).
  const mean = windows[0]!.reduce((s, r) => s + predict(fe, r), 0) / 400;
  const rate = windows[0]!.filter((r) => r.label).length / 400;
  assert.ok(Math.abs(mean - rate) < 0.03, `${mean} vs ${rate}`);
});

test('SZZ-like and second-round features: code added before a fix, unfixed code, tests and docs by base name, name tokens', () => {
  const h = [
    commit(1, 'init', [['lib/rules/no-foo.js', 100, 0], ['lib/rules/no-bar.js', 100, 0], ['lib/rules/max-baz.js', 100, 0], ['tests/lib/rules/no-foo.js', 300, 0], ['docs/rules/no-foo.md', 20, 0]]),
    // 40 lines added to no-foo, fixed 30 days later: those 40 lines are the fix-inducing ones.
    commit(200, 'feat: no-foo option', [['lib/rules/no-foo.js', 40, 0]]),
    commit(230, 'fix: no-foo crash', [['lib/rules/no-foo.js', 2, 2], ['tests/lib/rules/no-foo.js', 10, 0]], 'b'),
    // Added after the fix: not yet debugged.
    commit(300, 'feat: more no-foo', [['lib/rules/no-foo.js', 25, 0]]),
    // No-bar's change is followed by a fix only after 90 days: not counted as inducing it.
    commit(100, 'refactor: no-bar', [['lib/rules/no-bar.js', 30, 0]]),
    commit(250, 'fix: no-bar wrong report', [['lib/rules/no-bar.js', 1, 1]]),
    commit(310, 'docs: no-foo example', [['docs/rules/no-foo.md', 3, 1]]),
  ].sort((a, b) => a.time - b.time);
  const rows = featuresAt(h, 320 * DAY);
  const f = (p: string) => rows.find((r) => r.path === p)!.features;
  const foo = f('lib/rules/no-foo.js');
  const bar = f('lib/rules/no-bar.js');
  assert.ok(Math.abs(foo.log_induced_lines! - Math.log1p(40 * 0.5 ** (90 / 180))) < 1e-9, String(foo.log_induced_lines));
  assert.equal(bar.log_induced_lines, 0);
  assert.equal(foo.log_unfixed_added, Math.log1p(25));
  assert.equal(foo.log_test_loc, Math.log1p(310));
  assert.equal(foo.log_doc_commits_total, Math.log1p(2));
  assert.equal(bar.log_test_loc, 0);
  // Tokens "no" (no-foo fixed, no-bar fixed) vs "max"/"baz" (nothing fixed): max-baz's name says less risk.
  assert.ok(bar.token_fix_rate! > f('lib/rules/max-baz.js').token_fix_rate!);
  assert.equal(foo.fixed_windows, 1);
  assert.ok(foo.fix_decay_30! < foo.fix_decay_730!);
  // Created within the year: all of it is growth.
  assert.equal(foo.log_growth_365, Math.log1p(165));
});
