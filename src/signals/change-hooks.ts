/**
 * Declared changes from the webhooks people already have: GitHub's `deployment_status` events (what GitHub Actions
 * environments, Argo CD's and Vercel's GitHub integrations send), GitLab's Deployment Hook and Feature Flag Hook.
 * Pointing a repository's webhook at `tswarm serve` (`/hooks/github`, `/hooks/gitlab`) then needs no pipeline step.
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
  // span's short sha still matches it: change-event.ts sameVersion).
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
  // GitLab sends the short sha only; a span's full or short sha matches it (change-event.ts sameVersion).
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
