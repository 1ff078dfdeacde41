/**
 * GitLab webhook bodies for the change-hook tests, with the fields GitLab's webhook-events documentation lists for
 * its Deployment Hook and Feature Flag Hook (values ours). GitHub's come from @octokit/webhooks-examples.
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
