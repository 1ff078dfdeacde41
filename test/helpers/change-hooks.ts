/**
 * Webhook bodies for the change-hook tests: GitLab's with the fields its webhook-events documentation lists for its
 * Deployment Hook and Feature Flag Hook, LaunchDarkly's with those of its audit-log entries (what its webhooks
 * post, per its webhooks documentation); values ours. GitHub's come from @octokit/webhooks-examples.
 */
export const gitlabDeployment = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  object_kind: 'deployment',
  status: 'success',
  status_changed_at: '2026-11-30 21:50:00 +0200',
  deployment_id: 15,
  deployable_id: 796,
  deployable_url: 'https://gitlab.example/shop/checkout/-/jobs/796',
  environment: 'production',
  environment_tier: 'production',
  environment_slug: 'production',
  environment_external_url: 'https://checkout.example',
  project: { id: 30, name: 'checkout', web_url: 'https://gitlab.example/shop/checkout', path_with_namespace: 'shop/checkout' },
  short_sha: '279484c0',
  user: { id: 1, name: 'Ada Admin', username: 'ada', email: 'admin@example.com' },
  user_url: 'https://gitlab.example/ada',
  commit_url: 'https://gitlab.example/shop/checkout/-/commit/279484c09fbe69ededfced8c1bb6e6d24616b468',
  commit_title: 'Cache the price lookup',
  ref: 'main',
  ...over,
});

export const gitlabFlag = (active: boolean): Record<string, unknown> => ({
  object_kind: 'feature_flag',
  project: { id: 30, name: 'checkout', web_url: 'https://gitlab.example/shop/checkout' },
  user: { id: 1, name: 'Ada Admin', username: 'ada' },
  user_url: 'https://gitlab.example/ada',
  object_attributes: { id: 6, name: 'new-pricing', description: null, active },
});

/** A LaunchDarkly audit-log entry for flag `new-pricing` in `production`: `action` on it, `on` / version after. */
export const ldFlagChange = (action: string, on: boolean, version: number, over: Record<string, unknown> = {}): Record<string, unknown> => {
  const flag = (isOn: boolean, v: number): Record<string, unknown> => ({
    key: 'new-pricing',
    name: 'New pricing',
    kind: 'boolean',
    tags: ['service:pricing', 'service:checkout', 'team-growth'],
    environments: { production: { on: isOn, version: v, archived: false }, test: { on: true, version: 3 } },
  });
  return {
    _links: { self: { href: '/api/v2/auditlog/57c0a8e29969090743529965', type: 'application/json' } },
    _id: '57c0a8e29969090743529965',
    date: Date.UTC(2026, 11, 1, 9, 30),
    accesses: [{ action, resource: 'proj/default:env/production:flag/new-pricing' }],
    kind: 'flag',
    name: 'New pricing',
    description: '- turned on the flag',
    shortDescription: '',
    comment: 'canary for EU',
    member: { _id: '507f1f77bcf86cd799439011', email: 'ada@example.com', firstName: 'Ada', lastName: 'Admin' },
    titleVerb: action === 'updateOn' ? (on ? 'turned on the flag' : 'turned off the flag') : 'changed the targeting rules of the flag',
    title: 'Ada Admin changed the flag New pricing',
    target: { _links: { canonical: { href: '/api/v2/flags/default/new-pricing' }, site: { href: '/default/production/features/new-pricing' } }, name: 'New pricing', resources: ['proj/default:env/production:flag/new-pricing'] },
    currentVersion: flag(on, version),
    previousVersion: flag(action === 'updateOn' ? !on : on, version - 1),
    ...over,
  };
};
