/**
 * Webhook payloads as declared changes. GitHub's payloads are GitHub's own published examples
 * (@octokit/webhooks-examples, the fixtures Octokit tests against); GitLab's follow the field list of its
 * webhook-events documentation (values ours).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { githubChanges, gitlabChanges, gitlabTimeMs, launchDarklyChanges } from './change-hooks.js';
import { ChangeInputError, parseChange, sameValue } from './change-event.js';
import { gitlabDeployment, gitlabFlag, ldFlagChange } from '../../test/helpers/change-hooks.js';

type Example = Record<string, unknown>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as { name: string; examples: Example[] }[];
const github = (name: string): Example[] => structuredClone(examples.find((e) => e.name === name)!.examples);

const NOW = Date.UTC(2026, 11, 2, 12) * 1000;

test("GitHub: a successful deployment status is a deploy of the repository's service at the commit, by its creator, when the status was set", () => {
  const success = github('deployment_status').find((e) => (e.deployment_status as { state: string }).state === 'success')!;
  const r = githubChanges('deployment_status', success);
  assert.ok('changes' in r, JSON.stringify(r));
  const c = parseChange(r.changes[0], NOW);
  assert.deepEqual(c, {
    kind: 'deploy',
    service: 'Hello-World',
    key: 'service.version',
    value: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
    atUs: Date.parse('2019-05-15T15:20:55Z') * 1000,
    by: 'Codertocat',
    // No target or log URL in this status: the deployed commit.
    url: 'https://github.com/Codertocat/Hello-World/commit/f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
    description: 'master@f95f852 to production (GitHub deployment)',
  });
});

test("GitHub: the deployment's payload names the service and version when the repository holds several; ?service= wins over both", () => {
  const e = github('deployment_status').find((x) => (x.deployment_status as { state: string }).state === 'success')!;
  (e.deployment as Record<string, unknown>).payload = { service: 'checkout', version: 'v2.4.1' };
  let r = githubChanges('deployment_status', e);
  assert.ok('changes' in r);
  assert.deepEqual([r.changes[0]!.service, r.changes[0]!.version], ['checkout', 'v2.4.1']);
  // Created through the REST API with a JSON string as its payload.
  (e.deployment as Record<string, unknown>).payload = JSON.stringify({ service: 'cart' });
  r = githubChanges('deployment_status', e, { service: 'pricing' });
  assert.ok('changes' in r);
  assert.equal(r.changes[0]!.service, 'pricing');
  r = githubChanges('deployment_status', e);
  assert.ok('changes' in r);
  assert.equal(r.changes[0]!.service, 'cart');
});

test('GitHub: statuses other than success, other environments, pings and other events are ignored with the reason, not refused', () => {
  const inProgress = github('deployment_status').find((e) => (e.deployment_status as { state: string }).state === 'in_progress')!;
  assert.match(JSON.stringify(githubChanges('deployment_status', inProgress)), /"ignored":"deployment status \\"in_progress\\": only \\"success\\"/);
  const success = github('deployment_status')[0]!;
  assert.match(JSON.stringify(githubChanges('deployment_status', success, { environments: ['prod', 'staging'] })), /environment \\"production\\", not one of prod, staging/);
  assert.ok('changes' in githubChanges('deployment_status', success, { environments: ['Production'] }));
  assert.match(JSON.stringify(githubChanges('ping', github('ping')[0])), /ignored.*ping/);
  assert.match(JSON.stringify(githubChanges('deployment', github('deployment')[0])), /carries no deploy.*Deployment statuses/);
});

test('GitHub: a deployment_status body without what a deploy needs is an error naming the field', () => {
  const e = github('deployment_status')[0]!;
  assert.throws(() => githubChanges('deployment_status', [e]), /not a JSON object/);
  assert.throws(() => githubChanges('deployment_status', { ...e, deployment: undefined }), (err: Error) => err instanceof ChangeInputError && /deployment is missing/.test(err.message));
  assert.throws(() => githubChanges('deployment_status', { ...e, deployment: { ...(e.deployment as object), sha: '' } }), /deployment: sha is missing or empty/);
  assert.throws(() => githubChanges('deployment_status', { ...e, repository: undefined }), /no service.*\?service=/);
});

test('GitLab: a successful Deployment Hook is a deploy at the short sha, dated by status_changed_at (its own time format)', () => {
  const r = gitlabChanges('Deployment Hook', gitlabDeployment());
  assert.ok('changes' in r, JSON.stringify(r));
  assert.deepEqual(parseChange(r.changes[0], NOW), {
    kind: 'deploy',
    service: 'checkout',
    key: 'service.version',
    value: '279484c0',
    atUs: Date.UTC(2026, 10, 30, 19, 50) * 1000,
    by: 'ada',
    url: 'https://gitlab.example/shop/checkout/-/jobs/796',
    description: 'Cache the price lookup: main@279484c0 to production (GitLab deployment)',
  });
  assert.equal(gitlabTimeMs('2026-11-30 21:50:00 UTC'), Date.UTC(2026, 10, 30, 21, 50));
  assert.equal(gitlabTimeMs('2026-11-30T21:50:00Z'), Date.UTC(2026, 10, 30, 21, 50));
  assert.throws(() => gitlabTimeMs('yesterday'), /GitLab time "yesterday" is not a time/);
  assert.match(JSON.stringify(gitlabChanges('Deployment Hook', gitlabDeployment({ status: 'running' }))), /ignored.*running/);
  assert.match(JSON.stringify(gitlabChanges('Deployment Hook', gitlabDeployment(), { environments: ['staging'] })), /ignored.*production/);
  assert.match(JSON.stringify(gitlabChanges('Push Hook', {})), /ignored.*Push Hook/);
  assert.throws(() => gitlabChanges('Deployment Hook', gitlabDeployment({ short_sha: undefined })), /short_sha is missing/);
  assert.throws(() => gitlabChanges('Deployment Hook', gitlabDeployment({ project: {} })), /no project\.name/);
});

test('GitLab: a Feature Flag Hook is a flag flip of the project, on ↔ off', () => {
  const on = gitlabChanges('Feature Flag Hook', gitlabFlag(true));
  assert.ok('changes' in on);
  const c = parseChange(on.changes[0], NOW);
  assert.deepEqual([c.kind, c.service, c.key, c.value, c.previous, c.by, c.atUs], ['flag', 'checkout', 'new-pricing', 'on', 'off', 'ada', NOW]);
  assert.equal(c.url, 'https://gitlab.example/shop/checkout/-/feature_flags/6/edit');
  const off = gitlabChanges('Feature Flag Hook', gitlabFlag(false));
  assert.ok('changes' in off);
  assert.deepEqual([off.changes[0]!.value, off.changes[0]!.previous], ['off', 'on']);
  assert.throws(() => gitlabChanges('Feature Flag Hook', { ...gitlabFlag(true), object_attributes: { name: 'x' } }), /active is missing/);
});

test('one version, however it is written: a short sha of the full one, "v2.4.1" and "2.4.1"; other keys compare exactly', () => {
  assert.ok(sameValue('service.version', '279484c0', '279484c09fbe69ededfced8c1bb6e6d24616b468'));
  assert.ok(sameValue('service.version', '279484C09FBE', '279484c0'));
  assert.ok(sameValue('service.version', 'v2.4.1', '2.4.1'));
  assert.ok(!sameValue('service.version', '279484c0', '279484d0'));
  assert.ok(!sameValue('service.version', '2794', '279484c0'), 'under 7 hex digits is not a sha');
  assert.ok(!sameValue('service.version', '2.4.1', '2.4.10'));
  assert.ok(!sameValue('cache.ttl', 'v30', '30'));
});

test('LaunchDarkly: a flag turned on or off is a flag change of each service it is tagged with, dated by the entry, by the member', () => {
  const r = launchDarklyChanges(ldFlagChange('updateOn', true, 12));
  assert.ok('changes' in r, JSON.stringify(r));
  const cs = r.changes.map((c) => parseChange(c, NOW));
  assert.deepEqual(cs.map((c) => [c.service, c.kind, c.key, c.previous, c.value]), [
    ['pricing', 'flag', 'new-pricing', 'off', 'on'],
    ['checkout', 'flag', 'new-pricing', 'off', 'on'],
  ]);
  assert.equal(cs[0]!.atUs, Date.UTC(2026, 11, 1, 9, 30) * 1000);
  assert.equal(cs[0]!.by, 'ada@example.com');
  assert.equal(cs[0]!.url, 'https://app.launchdarkly.com/default/production/features/new-pricing');
  assert.equal(cs[0]!.description, 'turned on the flag in production: canary for EU (LaunchDarkly)');
  const off = launchDarklyChanges(ldFlagChange('updateOn', false, 13), { service: 'cart' });
  assert.ok('changes' in off);
  assert.deepEqual(off.changes.map((c) => [c.service, c.previous, c.value]), [['cart', 'on', 'off']]);
});

test("LaunchDarkly: edited targeting is the environment's flag version; other kinds, actions, environments and untagged flags are ignored with the reason", () => {
  const rules = launchDarklyChanges(ldFlagChange('updateRules', true, 12));
  assert.ok('changes' in rules);
  assert.deepEqual([rules.changes[0]!.previous, rules.changes[0]!.value], ['v11', 'v12']);
  assert.match(JSON.stringify(launchDarklyChanges({ ...ldFlagChange('updateOn', true, 2), kind: 'member' })), /\\"member\\" change: only flag changes/);
  assert.match(JSON.stringify(launchDarklyChanges(ldFlagChange('createFlag', false, 1))), /createFlag: none changes what the flag serves/);
  assert.match(JSON.stringify(launchDarklyChanges(ldFlagChange('updateOn', true, 2), { environments: ['test'] })), /environment \\"production\\", not one of test/);
  const untagged = ldFlagChange('updateOn', true, 2);
  (untagged.currentVersion as Record<string, unknown>).tags = ['team-growth'];
  assert.match(JSON.stringify(launchDarklyChanges(untagged)), /names no service: tag it service:<name>/);
  const noVersion = ldFlagChange('updateRules', true, 2);
  (noVersion.currentVersion as { environments: Record<string, unknown> }).environments = {};
  assert.throws(() => launchDarklyChanges(noVersion), /environments\.production\.version is missing/);
  assert.throws(() => launchDarklyChanges('x'), /not a JSON object/);
});
