/**
 * Declared changes from the webhooks people already have: GitHub's `deployment_status` events (what GitHub Actions
 * environments, Argo CD's and Vercel's GitHub integrations send), GitLab's Deployment Hook and Feature Flag Hook,
 * LaunchDarkly's flag changes. Pointing a repository's or flag service's webhook at `tswarm serve` (`/hooks/github`,
 * `/hooks/gitlab`, `/hooks/launchdarkly`) then needs no pipeline step.
 *
 * Pure: an event name and a parsed body in, change inputs (checked later by change-event.ts like any other) or a
 * reason the event carries no change out. A body that claims to be such an event but lacks what a change needs
 * is a ChangeInputError naming the field; an event of another kind is not an error (a webhook subscribed to more
 * events than we read must not be marked failing by its sender), it is ignored with the reason.
 */
import { ChangeInputError, type ChangeInput } from './change-event.js';

export type HookResult = { changes: ChangeInput[] } | { ignored: string };

export interface HookOptions {
  /** The service the change is of, when the payload does not say (`?service=`); wins over the payload's guess. */
  service?: string;
  /** Only deploys to these environments count (`?environment=production,prod`); every environment when absent. */
  environments?: readonly string[];
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

function field(o: Obj, path: string, where: string): Obj {
  let cur: unknown = o;
  for (const k of path.split('.')) {
    if (!isObj(cur)) break;
    cur = cur[k];
  }
  if (!isObj(cur)) throw new ChangeInputError(`${where}: ${path} is missing or not an object`);
  return cur;
}

function required(o: Obj, key: string, where: string): string {
  const v = str(o[key]);
  if (v === undefined) throw new ChangeInputError(`${where}: ${key} is missing or empty`);
  return v;
}

/** An http(s) link or nothing: the change schema rejects anything else, and a webhook's empty "" means none. */
function link(...candidates: unknown[]): string | undefined {
  for (const c of candidates) {
    const s = str(c);
    if (s && /^https?:\/\//i.test(s)) return s;
  }
  return undefined;
}

function environmentAllowed(env: string | undefined, opts: HookOptions): boolean {
  if (!opts.environments?.length) return true;
  return env !== undefined && opts.environments.some((e) => e.toLowerCase() === env.toLowerCase());
}

/**
 * A deployment's `payload` is free-form (an object, or a JSON string when created through the REST API with one):
 * pipelines put `service` and `version` there when the repository holds several services or versions by tag.
 */
function deploymentPayload(p: unknown): Obj {
  if (isObj(p)) return p;
  if (typeof p === 'string' && p.trim().startsWith('{')) {
    try {
      const o = JSON.parse(p) as unknown;
      if (isObj(o)) return o;
    } catch {
      // A payload that is not JSON says nothing about the service: the repository's name stands.
    }
  }
  return {};
}

/** GitHub: `X-GitHub-Event` names the event; only a successful deployment status is a change that happened. */
export function githubChanges(event: string, body: unknown, opts: HookOptions = {}): HookResult {
  if (event === 'ping') return { ignored: 'ping: the webhook is set up (deployment_status events become deploys)' };
  if (event !== 'deployment_status') return { ignored: `GitHub event "${event}" carries no deploy (subscribe the webhook to "Deployment statuses")` };
  const where = 'GitHub deployment_status';
  if (!isObj(body)) throw new ChangeInputError(`${where}: the body is not a JSON object`);
  const status = field(body, 'deployment_status', where);
  const deployment = field(body, 'deployment', where);
  const state = required(status, 'state', `${where} deployment_status`);
  const env = str(status.environment) ?? str(deployment.environment);
  if (state !== 'success') return { ignored: `deployment status "${state}": only "success" is a deploy that happened` };
  if (!environmentAllowed(env, opts)) return { ignored: `deploy to environment "${env ?? '(none)'}", not one of ${opts.environments!.join(', ')}` };
  const sha = required(deployment, 'sha', `${where} deployment`);
  const payload = deploymentPayload(deployment.payload);
  const repo = isObj(body.repository) ? body.repository : {};
  const service = opts.service ?? str(payload.service) ?? str(repo.name);
  if (!service) throw new ChangeInputError(`${where}: no service: the deployment payload has no "service", the body no repository.name; add ?service=<name> to the webhook URL`);
  // The version the services report as service.version: the pipeline's own when it sets one, else the commit (a
  // span's short sha still matches it: change-event.ts sameValue).
  const version = str(payload.version) ?? sha;
  const ref = str(deployment.ref);
  const by = str(isObj(status.creator) ? status.creator.login : undefined) ?? str(isObj(body.sender) ? body.sender.login : undefined);
  const repoUrl = str(repo.html_url);
  const url = link(status.target_url, status.log_url, status.environment_url, repoUrl ? `${repoUrl}/commit/${sha}` : undefined);
  const description = str(status.description) ?? `${ref ? `${ref}@` : ''}${sha.slice(0, 7)}${env ? ` to ${env}` : ''} (GitHub deployment)`;
  const at = str(status.updated_at) ?? str(status.created_at);
  return {
    changes: [
      {
        service,
        version,
        ...(at ? { at } : {}),
        ...(by ? { by } : {}),
        ...(url ? { url } : {}),
        description: description.slice(0, 2000),
      },
    ],
  };
}

/** "2021-04-28 21:50:00 +0200" (GitLab's webhook time format) as epoch ms; ISO 8601 passes through Date.parse. */
export function gitlabTimeMs(s: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ?(UTC|[+-]\d{2}:?\d{2})$/.exec(s.trim());
  const iso = m ? `${m[1]}T${m[2]}${m[3] === 'UTC' ? 'Z' : `${m[3]!.slice(0, 3)}:${m[3]!.slice(-2)}`}` : s.trim();
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso) || !Number.isFinite(ms)) throw new ChangeInputError(`GitLab time "${s}" is not a time`);
  return ms;
}

const gitlabUser = (body: Obj): string | undefined => (isObj(body.user) ? (str(body.user.username) ?? str(body.user.name)) : undefined);

/**
 * GitLab: `X-Gitlab-Event` is "Deployment Hook" (a deployment's status changed: "success" is a deploy) or "Feature
 * Flag Hook" (a flag turned on or off: a flag change of the project's service).
 */
export function gitlabChanges(event: string, body: unknown, opts: HookOptions = {}): HookResult {
  if (event !== 'Deployment Hook' && event !== 'Feature Flag Hook') return { ignored: `GitLab event "${event}" carries no change (enable "Deployment events" or "Feature flag events")` };
  const where = `GitLab ${event}`;
  if (!isObj(body)) throw new ChangeInputError(`${where}: the body is not a JSON object`);
  const project = isObj(body.project) ? body.project : {};
  const service = opts.service ?? str(project.name);
  if (!service) throw new ChangeInputError(`${where}: no service: the body has no project.name; add ?service=<name> to the webhook URL`);
  const by = gitlabUser(body);
  if (event === 'Feature Flag Hook') {
    const flag = field(body, 'object_attributes', where);
    const name = required(flag, 'name', `${where} object_attributes`);
    if (typeof flag.active !== 'boolean') throw new ChangeInputError(`${where} object_attributes: active is missing or not true/false`);
    const web = str(project.web_url);
    const url = link(web ? `${web}/-/feature_flags/${typeof flag.id === 'number' ? `${flag.id}/edit` : ''}` : undefined);
    // The hook carries no time: the flag changed when GitLab sent it (now).
    return {
      changes: [
        {
          service,
          kind: 'flag',
          key: name,
          value: flag.active ? 'on' : 'off',
          previous: flag.active ? 'off' : 'on',
          ...(by ? { by } : {}),
          ...(url ? { url } : {}),
          description: (str(flag.description) ?? `feature flag ${name} turned ${flag.active ? 'on' : 'off'} (GitLab)`).slice(0, 2000),
        },
      ],
    };
  }
  const status = required(body, 'status', where);
  const env = str(body.environment);
  if (status !== 'success') return { ignored: `deployment status "${status}": only "success" is a deploy that happened` };
  if (!environmentAllowed(env, opts)) return { ignored: `deploy to environment "${env ?? '(none)'}", not one of ${opts.environments!.join(', ')}` };
  // GitLab sends the short sha only; a span's full or short sha matches it (change-event.ts sameValue).
  const version = str(body.short_sha) ?? str(body.sha);
  if (!version) throw new ChangeInputError(`${where}: short_sha is missing or empty`);
  const changed = str(body.status_changed_at);
  const url = link(body.deployable_url, body.commit_url, body.environment_external_url);
  const ref = str(body.ref);
  return {
    changes: [
      {
        service,
        version,
        ...(changed ? { at: gitlabTimeMs(changed) } : {}),
        ...(by ? { by } : {}),
        ...(url ? { url } : {}),
        description: `${str(body.commit_title) ? `${str(body.commit_title)}: ` : ''}${ref ? `${ref}@` : ''}${version}${env ? ` to ${env}` : ''} (GitLab deployment)`.slice(0, 2000),
      },
    ],
  };
}

/** Flag targeting actions of LaunchDarkly's audit log: they change what a flag serves (creating one does not). */
const LD_TARGETING = /^update(On|Fallthrough|FallthroughWithMeasuredRollout|OffVariation|Rules|RulesWithMeasuredRollout|Targets|ContextTargets|Prerequisites|FlagDefaultVariations|TrackEvents)$/;

/** "proj/default:env/production:flag/new-pricing" → { env: "production", flag: "new-pricing" }. */
function ldResource(r: unknown): { env?: string; flag?: string } {
  if (typeof r !== 'string') return {};
  const env = /(?:^|:)env\/([^:;]+)/.exec(r)?.[1];
  const flag = /(?:^|:)flag\/([^:;]+)/.exec(r)?.[1];
  return { ...(env ? { env } : {}), ...(flag ? { flag } : {}) };
}

/**
 * LaunchDarkly: its webhook posts the audit-log entry of each change. A flag's targeting change in an environment
 * is a flag change of the services the flag is tagged with (`service:<name>` tags: a flag service knows flags, not
 * services) or of `?service=`: turned on or off ("on" ↔ "off"), or its targeting edited (the environment's flag
 * version, "v11" → "v12", with LaunchDarkly's own words for what changed).
 */
export function launchDarklyChanges(body: unknown, opts: HookOptions = {}): HookResult {
  const where = 'LaunchDarkly webhook';
  if (!isObj(body)) throw new ChangeInputError(`${where}: the body is not a JSON object`);
  const kind = str(body.kind);
  if (kind !== 'flag') return { ignored: `LaunchDarkly "${kind ?? '(no kind)'}" change: only flag changes are read` };
  const accesses = Array.isArray(body.accesses) ? body.accesses.filter(isObj) : [];
  const targeting = accesses.filter((a) => LD_TARGETING.test(String(a.action)));
  if (!targeting.length) return { ignored: `LaunchDarkly flag actions ${accesses.map((a) => String(a.action)).join(', ') || '(none)'}: none changes what the flag serves` };
  const { env, flag: resourceKey } = ldResource(targeting[0]!.resource);
  if (!environmentAllowed(env, opts)) return { ignored: `flag change in environment "${env ?? '(none)'}", not one of ${opts.environments!.join(', ')}` };
  const current = isObj(body.currentVersion) ? body.currentVersion : {};
  const previous = isObj(body.previousVersion) ? body.previousVersion : {};
  const key = str(current.key) ?? resourceKey;
  if (!key) throw new ChangeInputError(`${where}: no flag key (currentVersion.key, or flag/<key> in accesses[].resource)`);
  const tags = Array.isArray(current.tags) ? current.tags.filter((t): t is string => typeof t === 'string') : [];
  const services = opts.service ? [opts.service] : [...new Set(tags.filter((t) => t.startsWith('service:')).map((t) => t.slice(8).trim()).filter(Boolean))];
  if (!services.length) return { ignored: `flag ${key} names no service: tag it service:<name> in LaunchDarkly, or add ?service=<name> to the webhook URL` };
  const envOf = (v: Obj): Obj | undefined => (env && isObj(v.environments) && isObj(v.environments[env]) ? v.environments[env] : undefined);
  const now = envOf(current);
  const before = envOf(previous);
  let value: string;
  let was: string | undefined;
  if (targeting.some((a) => a.action === 'updateOn') && typeof now?.on === 'boolean') {
    value = now.on ? 'on' : 'off';
    was = typeof before?.on === 'boolean' && before.on !== now.on ? (before.on ? 'on' : 'off') : now.on ? 'off' : 'on';
  } else {
    const v = typeof now?.version === 'number' ? now.version : undefined;
    if (v === undefined) throw new ChangeInputError(`${where}: currentVersion.environments.${env ?? '<env>'}.version is missing: the flag's targeting version in the environment`);
    value = `v${v}`;
    const pv = typeof before?.version === 'number' && before.version !== v ? before.version : v - 1;
    was = `v${pv}`;
  }
  const member = isObj(body.member) ? body.member : {};
  const by = str(member.email) ?? ([str(member.firstName), str(member.lastName)].filter(Boolean).join(' ') || undefined);
  const site = isObj(body.target) && isObj(body.target._links) && isObj(body.target._links.site) ? str(body.target._links.site.href) : undefined;
  const url = link(site ? (site.startsWith('/') ? `https://app.launchdarkly.com${site}` : site) : undefined);
  const what = str(body.titleVerb) ?? str(body.shortDescription) ?? accesses.map((a) => String(a.action)).join(', ');
  const date = typeof body.date === 'number' ? body.date : undefined;
  return {
    changes: services.map((service) => ({
      service,
      kind: 'flag' as const,
      key,
      value,
      ...(was !== undefined ? { previous: was } : {}),
      ...(date !== undefined ? { at: date } : {}),
      ...(by ? { by } : {}),
      ...(url ? { url } : {}),
      description: `${what}${env ? ` in ${env}` : ''}${str(body.comment) ? `: ${str(body.comment)}` : ''} (LaunchDarkly)`.slice(0, 2000),
    })),
  };
}
