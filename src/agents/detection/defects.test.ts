import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, SHARED_DATA, hasSharedData, runCli, tempDir } from '../../../test/helpers/env.js';
import { featuresAt, isBugFix, isSourceFile, type Commit } from '../../algorithms/defects/features.js';
import { COMMIT_SIGNAL_FEATURES, withCommitSignals } from '../../algorithms/defects/commit-signals.js';
import { auc, recallAtLoc } from '../../algorithms/defects/model.js';
import { makeErrorEvent } from '../../signals/errors.js';
import { readGitRepo, readHistoryFile } from './defect-history.js';
import { aliveSourceFiles, evaluateHistory, HISTORY_FEATURES, historyRowsAt, isBaseline, leaveOneHistoryOut, meansByAge, trainingWindows, SWEEP_FILES } from './defect-eval.js';
import { FEATURE_TEXT, predictRisk } from './defect-predictor.js';
import { RepoIndex } from './code-mapping.js';

test('bug-fix and source-file heuristics', () => {
  assert.ok(isBugFix('fix(router): crash on empty path (#123)'));
  assert.ok(isBugFix('Handle null body. Closes #42'));
  assert.ok(!isBugFix('docs: fix typo in README'));
  // A squash merge's pull-request number is not an issue the commit says it fixes; "fixes #N" is.
  assert.ok(!isBugFix('docs: fix typo in no-await-in-loop documentation (#20575)'));
  assert.ok(!isBugFix('chore: fix failing ecosystem test (#21084)'));
  assert.ok(isBugFix('chore: guard the cache, fixes #812'));
  assert.ok(!isBugFix('feat: add streaming'));
  assert.ok(isSourceFile('lib/reply.js') && isSourceFile('packages/runtime-core/src/renderer.ts'));
  assert.ok(!isSourceFile('test/reply.test.js') && !isSourceFile('docs/x.md') && !isSourceFile('types/index.d.ts'));
  for (const t of ['test-dts/ref.test-d.ts', 'packages/dts-test/h.test-d.ts', 'packages-private/dts-test/x.ts', 'packages-private/sfc-playground/src/App.vue', 'packages-private/vapor-e2e-test/a.ts'])
    assert.ok(!isSourceFile(t), `${t} is a test or a sandbox`);
  assert.ok(!isSourceFile('packages/runtime-test/src/index.ts'), 'a test renderer package is test support');
  assert.ok(isSourceFile('packages/shared/src/testing.ts') && isSourceFile('lib/rules/no-restricted-tests.js'));
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(recallAtLoc([{ loc: 10, label: true }, { loc: 10, label: false }, { loc: 80, label: true }]), 0.5);
});

test('eval smoke on the fastify history: the model beats LOC and is effort-aware (floors below the measured figures)', { skip: !hasSharedData('defects') && 'shared data not present' }, () => {
  const { commits } = readHistoryFile(join(SHARED_DATA, 'defects/fastify.jsonl.gz'));
  const r = evaluateHistory(commits);
  assert.equal(r.cuts.length, 6);
  // Measured: model AUC 0.890, R@20%LOC 0.313; LOC baseline AUC 0.821, R@20%LOC 0.000.
  assert.ok(r.mean.model!.auc > r.mean.loc!.auc, JSON.stringify(r.mean));
  assert.ok(r.mean.model!.recall20 >= 0.15);
});

test('training windows see nothing after the cut, and their labels leave fix sweeps out', () => {
  const DAY = 86_400;
  const files = Array.from({ length: SWEEP_FILES + 5 }, (_, i) => ({ path: `lib/f${i}.js`, added: 20, deleted: 0 }));
  const c = (day: number, message: string, fs: typeof files) => ({ sha: `s${day}`, time: day * DAY, author: 'a', parents: 1, message, files: fs });
  const history = [c(0, 'init', files), c(400, 'fix: one bug', [files[0]!]), c(410, 'fix: reword every message', files.map((f) => ({ ...f, added: 1, deleted: 1 })))];
  const cut = 600 * DAY;
  const late = [c(601, 'fix: after the cut', [files[1]!]), c(700, 'fix: later still', [files[2]!])];
  const w = trainingWindows(history, cut);
  assert.deepEqual(trainingWindows([...history, ...late], cut), w);
  // The most recent window (features at day 420, labels in days 420–600) has no fix; the one before (day 240,
  // labels 240–420) has the focused fix of f0 and not the sweep.
  assert.equal(w[0]!.filter((r) => r.label).length, 0);
  assert.deepEqual(w[1]!.filter((r) => r.label).map((r) => r.path), ['lib/f0.js']);
  // A file deleted before the cut is not among the files ranked at the cut: its rows leave the training windows.
  const gone = [...history, c(500, 'refactor: drop f3', [{ path: 'lib/f3.js', added: 0, deleted: 20 }])];
  assert.ok(w[1]!.some((r) => r.path === 'lib/f3.js'));
  assert.ok(trainingWindows(gone, cut).every((rows) => rows.length && !rows.some((r) => r.path === 'lib/f3.js')));
  assert.equal(aliveSourceFiles(gone, cut).size, files.length - 1);
});

test('commit-message and fix-shape signals: reverts, regressions, co-authors, references, renames, focused vs spread fixes', () => {
  const DAY = 86_400;
  let n = 0;
  const c = (day: number, message: string, files: [string, number, number][], author = 'a'): Commit => ({ sha: `m${n++}`, time: day * DAY, author, parents: 1, message, files: files.map(([path, added, deleted]) => ({ path, added, deleted })) });
  const many: [string, number, number][] = Array.from({ length: 6 }, (_, i) => [`lib/w${i}.js`, 1, 1]);
  const history = [
    c(1, 'init', [['lib/a.js', 100, 0], ['lib/old-name.js', 80, 0], ['src/c.ts', 10, 0], ...many.map(([p]): [string, number, number] => [p, 10, 0])]),
    c(100, 'refactor: move old-name', [['lib/old-name.js', 0, 80], ['lib/sub/new-name.js', 80, 0]]),
    c(400, 'fix: crash in a (#12)\n\nCo-authored-by: x <x@example.com>', [['lib/a.js', 2, 1]], 'b'),
    c(410, 'Revert "feat: a option"\n\nThis reverts commit abc.', [['lib/a.js', 0, 5]]),
    c(420, 'fix: regression in a, fixes #13', [['lib/a.js', 1, 1]], 'c'),
    c(430, 'fix: message format everywhere (#14)', [['lib/a.js', 1, 1], ...many]),
  ];
  const t = 450 * DAY;
  const rows = withCommitSignals(history, t, featuresAt(history, t));
  const f = (p: string) => rows.find((r) => r.path === p)!.features;
  const a = f('lib/a.js');
  assert.equal(a.log_coauthor_365, Math.log1p(1));
  assert.equal(a.log_refs_365, Math.log1p(3));
  assert.equal(a.log_fix_refs_365, Math.log1p(3));
  assert.equal(a.log_fix_authors_365, Math.log1p(3));
  assert.equal(a.log_focused_fixes_365, Math.log1p(2));
  assert.equal(a.log_spread_fixes_365, Math.log1p(1));
  assert.ok(a.revert_decay! > 0 && a.severe_decay! > a.revert_decay!, JSON.stringify(a));
  assert.equal(f('lib/w0.js').revert_decay, 0);
  assert.equal(f('lib/sub/new-name.js').rename_born, 1);
  assert.equal(a.rename_born, 0);
  assert.equal(f('src/c.ts').is_ts, 1);
  assert.equal(a.is_ts, 0);
  // lib/ holds a.js and the six w*.js (old-name.js is gone); lib/sub/ only the moved file.
  assert.equal(a.log_dir_files, Math.log1p(7));
  assert.equal(f('lib/sub/new-name.js').log_dir_files, Math.log1p(1));
  // Only commits before the time count, and the eval and predict rows carry every model feature.
  assert.deepEqual(withCommitSignals([...history, c(460, 'Revert "x"', [['lib/w0.js', 1, 1]])], t, featuresAt(history, t)), rows);
  assert.deepEqual(HISTORY_FEATURES.filter((x) => !(x in historyRowsAt(history, t)[0]!.features)), []);
  assert.equal(COMMIT_SIGNAL_FEATURES.length, new Set(COMMIT_SIGNAL_FEATURES).size);
});

test('leave-one-history-out picks each configuration on the other histories only; grid variants are not baselines', () => {
  const s = (auc: number) => ({ auc, recall20: auc / 2, precision10: 0 });
  // "a" wins on x and y, "b" wins only on z: z is scored with "a", x and y with the winner on the two others.
  const means = {
    x: { model: s(0.7), loc: s(0.6), 'model: a': s(0.8), 'model: b': s(0.7) },
    y: { model: s(0.7), loc: s(0.6), 'model: a': s(0.8), 'model: b': s(0.7) },
    z: { model: s(0.7), loc: s(0.6), 'model: a': s(0.5), 'model: b': s(0.95) },
  };
  const r = leaveOneHistoryOut(means);
  assert.deepEqual(r.map((x) => [x.heldOut, x.picked, x.auc]), [['x', 'b', 0.7], ['y', 'b', 0.7], ['z', 'a', 0.5]]);
  assert.deepEqual(Object.keys(means.x).filter(isBaseline), ['loc']);
});

test('earlier and later cuts: the older half by cut date and the newer half, whatever order the cuts come in', () => {
  const cut = (date: string, auc: number) => ({ cut: date, files: 10, positives: 2, methods: { model: { auc, recall20: 0, precision10: 0 } } });
  // evaluateHistory lists the newest cut first; an odd count leaves the middle cut to the later half.
  const r = meansByAge([cut('2024-06-01', 0.9), cut('2023-12-01', 0.8), cut('2023-06-01', 0.6), cut('2022-12-01', 0.5), cut('2022-06-01', 0.4)]);
  assert.equal(r.earlier.model!.auc, 0.45);
  assert.ok(Math.abs(r.later.model!.auc - (0.9 + 0.8 + 0.6) / 3) < 1e-12);
});

test('every history feature has a sentence for the per-file explanation', () => {
  assert.deepEqual(HISTORY_FEATURES.filter((f) => !FEATURE_TEXT[f]), []);
});

test('stack frames from containers, file:// and webpack:// map to repository files', () => {
  const idx = new RepoIndex(['src/payment/charge.ts', 'lib/util.js', 'test/charge.ts']);
  assert.equal(idx.lookup('/app/src/payment/charge.ts'), 'src/payment/charge.ts');
  assert.equal(idx.lookup('file:///usr/src/app/lib/util.js'), 'lib/util.js');
  assert.equal(idx.lookup('webpack://shop/./src/payment/charge.ts'), 'src/payment/charge.ts');
  assert.equal(idx.lookup('/app/node_modules/x/index.js'), undefined);
});

test('production exceptions in two services put their files and lines in the top 3 for those services, with fingerprints', async () => {
  const { commits } = await readGitRepo(REPO_ROOT);
  const err = (service: string, fn: string, line: number) =>
    makeErrorEvent({ timeUs: Date.now() * 1000, service, type: 'TypeError', message: `${fn} failed`, rawStack: `TypeError: ${fn} failed\n    at ${fn} (/srv/shop/testbed/service/defects.ts:${line}:11)\n    at handle (/srv/shop/testbed/service/web.ts:120:5)`, source: 'span', attributes: {}, resource: { attributes: { 'service.name': service } } });
  const errors = [err('payment', 'charge', 38), err('payment', 'charge', 38), err('currency', 'convert', 52)];
  const risks = await predictRisk({ commits, repoRoot: REPO_ROOT, errors });
  for (const svc of ['payment', 'currency']) {
    const forSvc = risks.filter((r) => r.services.includes(svc));
    const rank = risks.indexOf(forSvc[0]!);
    assert.ok(rank >= 0 && rank < 3, `${svc}: rank ${rank}`);
    assert.equal(forSvc[0]!.file, 'testbed/service/defects.ts');
    assert.ok(forSvc[0]!.lines.includes(svc === 'payment' ? 38 : 52));
    assert.ok(forSvc[0]!.fingerprints.length >= 1);
  }
});

test('a history too young to train on (90 days) is ranked by the time-weighted fix score, then churn, and says so', async () => {
  const DAY = 86_400;
  const f = (path: string, added = 10) => ({ path, added, deleted: 0 });
  const c = (day: number, message: string, files: ReturnType<typeof f>[]) => ({ sha: `y${day}${message.length}`, time: day * DAY, author: 'a', parents: 1, message, files });
  const history = [
    c(0, 'init', [f('src/a.js', 100), f('src/b.js', 100), f('src/c.js', 100), f('src/d.js', 100)]),
    c(10, 'fix: a crashes on empty input', [f('src/a.js')]),
    c(80, 'fix: b drops the last item', [f('src/b.js')]),
    c(85, 'fix: b again', [f('src/b.js')]),
    c(86, 'feat: grow c', [f('src/c.js', 300)]),
  ];
  const risks = await predictRisk({ commits: history, repoRoot: REPO_ROOT, nowS: 90 * DAY });
  assert.ok(risks.every((r) => r.basis === 'fix-score'), 'no model can be trained on 90 days');
  // Recent repeated fixes first, an older single fix next, then churn without fixes, then nothing.
  assert.deepEqual(risks.map((r) => r.file), ['src/b.js', 'src/a.js', 'src/c.js', 'src/d.js']);
  assert.match(risks[0]!.reasons.join('; '), /time-weighted fix score/);
  assert.equal(new Set(risks.map((r) => r.probability)).size, 1, 'no calibrated probability without a model: one base rate');
  assert.equal(risks[0]!.probability, 0.5, 'two of four files were fixed in the last 180 days (capped at 0.5)');
});

test('a shallow clone is read with a warning that says only the fetched history is used', async () => {
  const dir = tempDir('defects-shallow');
  try {
    const src = join(dir.path, 'src');
    mkdirSync(src, { recursive: true });
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'pipe' });
    git(src, 'init', '-q');
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(src, 'a.js'), `// ${i}\n`.repeat(i + 1));
      git(src, 'add', 'a.js');
      git(src, 'commit', '-q', '-m', `fix: change ${i}`);
    }
    git(dir.path, 'clone', '-q', '--depth', '1', `file://${src}`, 'shallow');
    const h = await readGitRepo(join(dir.path, 'shallow'));
    assert.equal(h.commits.length, 1);
    assert.match(h.warnings.join('\n'), /is a shallow clone: only the fetched history is used/);
    assert.equal((await readGitRepo(src)).warnings.length, 0);
  } finally {
    dir.cleanup();
  }
});

test('bad inputs: not a git repository, a corrupt history line, a missing file', async () => {
  const dir = tempDir('defects-bad');
  try {
    await assert.rejects(readGitRepo(dir.path), /is not a git repository/);
    const f = join(dir.path, 'h.jsonl');
    mkdirSync(dir.path, { recursive: true });
    writeFileSync(f, [JSON.stringify({ sha: 'a', time: 1, author: 'x', parents: 1, message: 'init', files: [{ path: 'a.js', added: 3, deleted: 0 }] }), '{corrupt', ''].join('\n'));
    const h = readHistoryFile(f);
    assert.equal(h.commits.length, 1);
    assert.match(h.warnings[0]!, /skipped 1 corrupt line\(s\), the first at line 2/);
    const r = await runCli(['predict', '--repo', dir.path]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a git repository/);
  } finally {
    dir.cleanup();
  }
});
