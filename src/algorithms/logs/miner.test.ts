import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskLine, renderTemplate, MAX_TOKENS } from './mask.js';
import { TemplateMiner, generaliseToken, mineAll } from './miner.js';
import { hasSharedData, runCli, SHARED_DATA } from '../../../test/helpers/env.js';

const tpl = (line: string): string => renderTemplate(maskLine(line));

test('masking follows the guideline conventions', () => {
  assert.equal(tpl('PacketResponder 1 for block blk_-6952295868487656571 terminating'), 'PacketResponder <*> for block <*> terminating');
  assert.equal(tpl('addStoredBlock: 10.251.73.220:50010 is added, size 67108864'), 'addStoredBlock: <*> is added, size <*>');
  assert.equal(tpl('session opened for user cyrus by (uid=0)'), 'session opened for user cyrus by (uid=<*>)');
  assert.equal(tpl('interface awdl0 up, tty2 on e820'), 'interface awdl0 up, tty2 on e820');
  assert.equal(tpl('ARPT: 620701.011328: wl0: ok'), 'ARPT: <*>: wl0: ok');
  assert.equal(tpl('[instance: b9000564-fe1a-409b-b8cc-1e88b294cd1d] VM Started'), '[instance: <*>] VM Started');
  assert.equal(tpl('connection at Sun Jul  3 10:05:25 2005 from /var/lib/x.db'), 'connection at <*> from <*>');
  assert.equal(tpl('setLightsOn(true)  flags=0x1'), 'setLightsOn(<*>) flags=<*>');
  assert.equal(tpl('stored (estimated size 5.2 KB, free 317.1 KB)'), 'stored (estimated size <*>, free <*>)');
});

test('a bound before a quantity is one value; a plain number keeps its unit word', () => {
  assert.equal(tpl('conn close, lifetime <1 sec'), 'conn close, lifetime <*>');
  assert.equal(tpl('wait >=5 ms, then ~3 min.'), 'wait <*>, then <*>.');
  assert.equal(tpl('request took 12 ms'), 'request took <*> ms');
  const m = new TemplateMiner();
  const a = m.add('conn 1 close, 10 bytes sent, lifetime 00:01');
  const b = m.add('conn 2 close, 0 bytes sent, lifetime <1 sec');
  assert.equal(a.id, b.id);
  assert.equal(m.get(a.id)?.template, 'conn <*> close, <*> sent, lifetime <*>');
});

test('a slot generalised with its framing takes any value in that framing, words too', () => {
  const m = new TemplateMiner({ familySize: 4 });
  const ids = ['alpha', 'bravo', 'charlie', 'delta'].map((h) => m.add(`cannot qualify domain name (${h}) -- using short name`).id);
  assert.equal(new Set(ids.map((id) => m.resolve(id))).size, 1);
  const late = m.add('cannot qualify domain name (echo1) -- using short name');
  assert.equal(late.id, m.resolve(ids[0]));
  assert.equal(late.template, 'cannot qualify domain name (<*>) -- using short name');
  assert.notEqual(m.add('cannot qualify host name (echo1) -- using short name').id, late.id, 'other words must still match');
  // The other order: a word first, then a value in the same framing.
  const w = m.add('setting hostname to "author-laptop.local" now');
  assert.equal(m.add('setting hostname to "host-10-1-2-3.example.edu" now').id, w.id);
});

test('lists of numbered names, letter-only hex, short hex hashes and generated ids are values; names are not', () => {
  assert.equal(tpl('failed to resolve name ab14 ab15 ab16 ab17'), 'failed to resolve name <*>');
  assert.equal(tpl('failed to resolve name ab14 ab15 ab16 ab17 and xy2'), 'failed to resolve name <*> and xy2');
  assert.equal(tpl('link eth0 eth1 up, wl0 down'), 'link eth0 eth1 up, wl0 down');
  assert.equal(tpl('vis=0 mask=ffffffff'), 'vis=<*> mask=<*>');
  assert.equal(tpl('Record{d1c8e63 u0 f39182}'), 'Record{<*> u0 <*>}');
  assert.equal(tpl('qZ4K9mTw03151: from=root'), '<*>: from=root');
  assert.equal(tpl('IO80211Family on BGL64k and awdl0 deadline'), 'IO80211Family on BGL64k and awdl0 deadline');
});

test('request target with its HTTP version, key=number+unit and host:host are one value each', () => {
  assert.equal(tpl('10.0.0.1 "GET /v2/servers/detail HTTP/1.1" status: 200'), '<*> "GET <*>" status: <*>');
  assert.equal(tpl('view: phys_ram=64172MB used_disk=20GB pci_stats=[]'), 'view: phys_ram=<*> used_disk=<*> pci_stats=[]');
  assert.equal(tpl('record updated for cp-1.vm1.example.us:cp-1.vm1.example.us'), 'record updated for <*>');
  assert.equal(tpl('at 12:03:44 ok'), 'at <*>:<*>:<*> ok');
  assert.equal(tpl('update (C Nodes/cn304/pkts_out.rrd): key ab-1ROOT/Device/Vol2/Windows/x'), 'update (C <*>): key <*>');
  assert.equal(tpl('Updated seq/ack/win on 7/2/2017'), 'Updated seq/ack/win on <*>/<*>/<*>');
  assert.equal(tpl('mail delay=00:00:01, steps=12##0##3 at 10:00:01'), 'mail delay=<*>, steps=<*> at <*>:<*>:<*>');
  assert.equal(tpl('DHCPDISCOVER from 00:11:22:e3:ba:c3 via eth1'), 'DHCPDISCOVER from <*> via eth1');
});

test('fields: a quoted value with spaces is one token; different keys are different events', () => {
  assert.deepEqual(maskLine('acquire tag="View Lock", name=sys'), ['acquire', 'tag="View Lock",', 'name=sys']);
  assert.deepEqual(maskLine('say "hello there" now'), ['say', '"hello', 'there"', 'now'], 'only key="..." fields join');
  const m = new TemplateMiner();
  const a = m.add('acquire lock=1, tag="RILJ_WL", name=com.android.phone, uid=1001');
  const b = m.add('acquire lock=2, tag="View Lock", name=com.android.systemui, uid=1002');
  const c = m.add('acquire lock=3, tag="*launch*", name=android, uid=1000');
  assert.equal(a.id, b.id);
  assert.equal(b.id, c.id);
  assert.equal(m.get(a.id)?.template, 'acquire lock=<*>, tag="<*>", name=<*>, uid=<*>');
  const p = m.add('getDataEnabled: subId=1 phoneId=1');
  const r = m.add('getDataEnabled: subId=1 retVal=true');
  assert.notEqual(p.id, r.id, 'phoneId= and retVal= are different fields');
  const t1 = m.add('auth failure; uid=0 tty=NODEVssh ruser= rhost=10.0.0.1');
  const t2 = m.add('auth failure; uid=0 tty=:0 ruser= rhost=10.0.0.2');
  assert.notEqual(t1.id, t2.id, 'a bare word and a value in one field stay apart');
});

test('generalising keeps shared framing punctuation', () => {
  assert.equal(generaliseToken('(abc)', '(de)'), '(<*>)');
  assert.equal(generaliseToken('user=root', 'user=guest'), 'user=<*>');
  assert.equal(generaliseToken('cyrus', 'news'), '<*>');
});

test('lines of one event share a template; different events do not', () => {
  const m = new TemplateMiner();
  const a = m.add('Failed password for root from 1.2.3.4 port 22 ssh2');
  const b = m.add('Failed password for root from 5.6.7.8 port 2222 ssh2');
  const c = m.add('Accepted password for root from 5.6.7.8 port 2222 ssh2');
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, c.id);
  assert.equal(m.get(a.id)?.template, 'Failed password for root from <*> port <*> ssh2');
  const vm1 = m.add('[instance: 1] VM Started (Lifecycle Event)');
  const vm2 = m.add('[instance: 2] VM Paused (Lifecycle Event)');
  assert.notEqual(vm1.id, vm2.id, 'two words differing at one position are two events until the family is large');
});

test('word-valued variables: a family of templates differing in one word merges and old ids alias the new one', () => {
  const m = new TemplateMiner({ familySize: 4 });
  const ids = ['cyrus', 'news', 'test', 'root'].map((u) => m.add(`session closed for user ${u} now`).id);
  const live = new Set(ids.map((id) => m.resolve(id)));
  assert.equal(live.size, 1);
  const id = [...live][0]!;
  assert.equal(m.get(id)?.template, 'session closed for user <*> now');
  for (const old of ids) assert.equal(m.get(old)?.id, id);
  assert.equal(m.add('session closed for user mail now').id, id);
});

test('value vocabulary: words a variable took elsewhere make a small family merge, even after the fact', () => {
  const m = new TemplateMiner({ familySize: 4 });
  const opened = ['cyrus', 'news', 'test'].map((u) => m.add(`session opened for user ${u} by (uid=0)`).id);
  assert.equal(new Set(opened.map((id) => m.resolve(id))).size, 3, 'three words alone are not enough');
  for (const u of ['cyrus', 'news', 'test', 'root']) m.add(`session closed for user ${u} now`);
  const live = new Set(opened.map((id) => m.resolve(id)));
  assert.equal(live.size, 1, 'the names became known values when the other family merged');
  assert.equal(m.get([...live][0]!)?.template, 'session opened for user <*> by (uid=<*>)');
  // Words never seen as values keep their events apart.
  const vm = ['Started', 'Paused', 'Stopped'].map((e) => m.add(`[instance: 42] VM ${e} (Lifecycle Event)`).id);
  assert.equal(new Set(vm.map((id) => m.resolve(id))).size, 3);
  // Past participles name events: even four of them stay four templates.
  vm.push(m.add('[instance: 42] VM Resumed (Lifecycle Event)').id);
  assert.equal(new Set(vm.map((id) => m.resolve(id))).size, 4);
});

test('variable first token: once a family has merged, a template that differs only there joins it from any bucket', () => {
  const m = new TemplateMiner({ familySize: 4 });
  const apps = ['app.alpha.sync:', 'app.bravo.daily:', 'app.charlie.update:', 'app.delta.fetch:'];
  const ids = apps.map((a, k) => m.add(`${a} evaluate activity told me to run this job in ${k + 10} seconds`).id);
  assert.equal(new Set(ids.map((id) => m.resolve(id))).size, 1);
  const late = m.add('app.echo.poll: evaluate activity told me to run this job in 7 seconds');
  assert.equal(late.id, m.resolve(ids[0]));
  // A value there (a URL, masked) joins the merged family too.
  const url = m.add('ical://host/p11: evaluate activity told me to run this job in 59 seconds');
  assert.equal(url.id, late.id);
  assert.equal(url.template, '<*>: evaluate activity told me to run this job in <*> seconds');
});

test('numbered names with multi-digit numbers are values at two members; IPV4|IPV6 are not', () => {
  const m = new TemplateMiner({ familySize: 4 });
  const a = m.add('NFS mount failed on bglio716, slept 5 seconds, retrying');
  const b = m.add('NFS mount failed on bglio91, slept 5 seconds, retrying');
  assert.equal(m.resolve(a.id), m.resolve(b.id));
  assert.equal(m.get(a.id)?.template, 'NFS mount failed on <*>, slept <*> seconds, retrying');
  const v4 = m.add('wl0: MDNS: IPV4 Addr: 10.0.0.1 seen');
  const v6 = m.add('wl0: MDNS: IPV6 Addr: fe80::1 seen');
  assert.notEqual(m.resolve(v4.id), m.resolve(v6.id));
  const irq = ['IRQ0', 'IRQ2', 'IRQ9'].map((q) => m.add(`ACPI: ${q} used by override here`).id);
  assert.equal(new Set(irq.map((id) => m.resolve(id))).size, 1, 'three numbers on one name are instances');
});

test('state round-trips through JSON with stable ids and aliases', () => {
  const m = new TemplateMiner();
  const first = m.add('job 1 started on node-a');
  for (const u of ['a', 'b', 'c', 'd']) m.add(`user ${u} logged in from the console`);
  const restored = TemplateMiner.fromJSON(JSON.parse(JSON.stringify(m.toJSON())));
  assert.equal(restored.add('job 2 started on node-a').id, first.id);
  assert.equal(restored.size, m.size);
  assert.deepEqual([...restored.aliasMap()], [...m.aliasMap()]);
  // The value vocabulary survives too: the names learned above make a two-member family merge after the restart.
  const x = restored.add('user a logged out from the console');
  const y = restored.add('user b logged out from the console');
  assert.equal(restored.resolve(x.id), restored.resolve(y.id));
  assert.throws(() => TemplateMiner.fromJSON({} as never), /not a template miner state/);
  assert.throws(() => new TemplateMiner({ maxTemplates: 0 }), /maxTemplates/);
});

test('hostile input: 1 MB lines, binary, invalid UTF-8 and all-unique tokens stay bounded in time and memory', () => {
  const m = new TemplateMiner({ maxTemplates: 1000, maxCacheEntries: 5000 });
  const t0 = performance.now();
  const huge = 'x'.repeat(1 << 20);
  const r1 = m.add(huge);
  const r2 = m.add(`${'word '.repeat(200_000)}end`);
  assert.ok(r1.template.length <= 5000 && r2.template.split(' ').length <= MAX_TOKENS);
  const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)).toString('latin1');
  m.add(binary);
  m.add(Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x41, 0x00, 0x0a]).toString('utf8'));
  // 20,000 lines of all-unique words: each is its own template; the cap must hold.
  let s = 1;
  const word = (): string => ((s = (s * 48271) % 2147483647).toString(36).replace(/\d/g, 'q'));
  for (let i = 0; i < 20_000; i++) m.add(`${word()} ${word()} ${word()} ${word()} ${word()} ${word()}`);
  const ms = performance.now() - t0;
  assert.ok(m.size <= 1000, `template cap held (${m.size})`);
  assert.ok(ms < 15_000, `bounded time (${ms.toFixed(0)} ms)`);
  assert.ok(JSON.stringify(m.toJSON()).length < 5_000_000, 'state stays small');
});

test('hostile input: a word learned as a value late re-examines a bounded number of families', () => {
  const m = new TemplateMiner({ maxTemplates: 50_000 });
  const letters = (k: number): string => k.toString(26).replace(/./g, (d) => String.fromCharCode(97 + parseInt(d, 26)));
  // 5,000 families of two templates each, all varying over the same two words.
  for (let k = 0; k < 5000; k++) for (const w of ['wa', 'wb']) m.add(`p${letters(k)} r${letters(k)} one two three ${w}`);
  assert.equal(m.size, 10_000);
  const t0 = performance.now();
  for (const w of ['wa', 'wb', 'wc', 'wd']) m.add(`other context words here ${w}`);
  const ms = performance.now() - t0;
  const merged = 10_000 + 1 - m.size;
  assert.ok(merged >= 1 && merged <= 64, `some families merged at once, a bounded number (${merged})`);
  assert.ok(ms < 1000, `bounded time (${ms.toFixed(0)} ms)`);
});

test('mineAll returns the final template of every line', () => {
  const { templates } = mineAll(['a 1 b', 'a 2 b', 'c']);
  assert.deepEqual(templates, ['a <*> b', 'a <*> b', 'c']);
});

test('eval smoke: tswarm eval loghub on six datasets meets floors below the measured figures', { skip: !hasSharedData('loghub-2k') && 'no ../shared/data/loghub-2k', timeout: 60_000 }, async () => {
  const res = await runCli(['eval', 'loghub', '--data', `${SHARED_DATA}/loghub-2k`, '--truth', 'corrected', '--datasets', 'HDFS,Apache,OpenSSH,Proxifier,Linux,Thunderbird', '--json'], { timeoutMs: 60_000 });
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { datasets: { dataset: string; ga: number; pa: number; fga: number; fta: number }[]; linesPerSec: number };
  const by = Object.fromEntries(out.datasets.map((d) => [d.dataset, d]));
  // Measured (GA/FGA/PA/FTA): HDFS 1/1/1/1, Apache 1/1/1/1, OpenSSH 1/1/.996/.769, Proxifier 1/1/.990/.875
  // (the `<1 sec` bound), Linux 1/1/.982/.871 (value vocabulary), Thunderbird .970/.872/.895/.641 (name lists,
  // generated ids, framed slots).
  assert.ok(by.HDFS.ga >= 0.95 && by.HDFS.pa >= 0.9 && by.HDFS.fta >= 0.9, JSON.stringify(by.HDFS));
  assert.ok(by.Apache.ga >= 0.95 && by.Apache.pa >= 0.95, JSON.stringify(by.Apache));
  assert.ok(by.OpenSSH.ga >= 0.95 && by.OpenSSH.pa >= 0.95 && by.OpenSSH.fga >= 0.9, JSON.stringify(by.OpenSSH));
  assert.ok(by.Proxifier.ga >= 0.95 && by.Proxifier.pa >= 0.9, JSON.stringify(by.Proxifier));
  assert.ok(by.Linux.ga >= 0.95 && by.Linux.fga >= 0.95, JSON.stringify(by.Linux));
  assert.ok(by.Thunderbird.ga >= 0.95 && by.Thunderbird.fga >= 0.83, JSON.stringify(by.Thunderbird));
  const bad = await runCli(['eval', 'loghub', '--data', `${SHARED_DATA}/loghub-2k`, '--truth', 'nope'], { timeoutMs: 30_000 });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--truth must be one of/);
});
