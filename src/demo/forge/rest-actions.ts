import {
  HttpError,
  notFound,
  numberParam,
  paginate,
  repoParam,
  requireRole,
  stringField,
  type Router,
} from './http.js';
import { resolveRef } from './rest-repos.js';
import type { ForgeState } from './state.js';
import type { Actor, ForgeRepo } from './types.js';

/** A GitHub Actions workflow run the forge keeps (started by `workflow_dispatch`). */
export interface ForgeWorkflowRun {
  readonly id: number;
  readonly repoId: number;
  /** Workflow file name (`deploy.yml`) as dispatched. */
  readonly workflow: string;
  readonly headBranch: string;
  readonly headSha: string;
  readonly event: 'workflow_dispatch';
  readonly inputs: Readonly<Record<string, string>>;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  readonly createdAt: string;
  updatedAt: string;
  readonly actor: Actor;
}

/**
 * GitHub Actions as far as deployers need it: `workflow_dispatch`, listing and reading workflow
 * runs. Nothing executes a run: tests and the demo watch {@link onDispatch} and finish runs with
 * {@link complete}, which emits `workflow_run.completed` like GitHub.
 */
export class ForgeActions {
  readonly runs: ForgeWorkflowRun[] = [];
  private readonly listeners = new Set<(run: ForgeWorkflowRun) => void>();

  constructor(private readonly state: ForgeState) {}

  /** Called for every dispatched run; returns an unsubscribe function. */
  onDispatch(listener: (run: ForgeWorkflowRun) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  dispatch(
    repo: ForgeRepo,
    actor: Actor,
    input: Omit<
      ForgeWorkflowRun,
      'id' | 'repoId' | 'event' | 'status' | 'conclusion' | 'createdAt' | 'updatedAt' | 'actor'
    >,
  ): ForgeWorkflowRun {
    const now = this.state.timestamp();
    const run: ForgeWorkflowRun = {
      ...input,
      id: this.state.nextId(),
      repoId: repo.id,
      event: 'workflow_dispatch',
      status: 'queued',
      conclusion: null,
      createdAt: now,
      updatedAt: now,
      actor,
    };
    this.runs.push(run);
    for (const listener of this.listeners) listener(run);
    return run;
  }

  /** Ends a run (`success`, `failure`, `cancelled`…) and emits `workflow_run.completed`. */
  complete(runId: number, conclusion: string): ForgeWorkflowRun {
    const run = this.runs.find((r) => r.id === runId);
    if (!run) throw new Error(`no workflow run ${runId}`);
    const repo = [...this.state.repos.values()].find((r) => r.id === run.repoId);
    if (!repo) throw new Error(`workflow run ${runId} has no repository`);
    run.status = 'completed';
    run.conclusion = conclusion;
    run.updatedAt = this.state.timestamp();
    this.state.emit({
      name: 'workflow_run',
      action: 'completed',
      repo,
      sender: run.actor.user,
      payload: { workflow_run: this.json(repo, run) },
    });
    return run;
  }

  json(repo: ForgeRepo, run: ForgeWorkflowRun): Record<string, unknown> {
    const base = `${this.state.urls.api}/repos/${repo.owner.login}/${repo.name}`;
    return {
      id: run.id,
      name: run.workflow.replace(/\.ya?ml$/, ''),
      display_title: run.workflow.replace(/\.ya?ml$/, ''),
      path: `.github/workflows/${run.workflow}`,
      head_branch: run.headBranch,
      head_sha: run.headSha,
      event: run.event,
      status: run.status,
      conclusion: run.conclusion,
      run_number: run.id,
      html_url: `${this.state.urls.web}/${repo.owner.login}/${repo.name}/actions/runs/${run.id}`,
      url: `${base}/actions/runs/${run.id}`,
      created_at: run.createdAt,
      updated_at: run.updatedAt,
      run_started_at: run.createdAt,
    };
  }
}

export function registerActionRoutes(router: Router, actions: ForgeActions): void {
  router.on('POST', '/repos/:owner/:repo/actions/workflows/:workflow/dispatches', async (ctx) => {
    const repo = repoParam(ctx);
    const actor = requireRole(ctx, repo, 'write');
    const ref = stringField(ctx, 'ref', true);
    const sha = await resolveRef(ctx, repo, ref);
    const raw = ctx.body.inputs ?? {};
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new HttpError(422, 'inputs must be an object');
    const inputs: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
      if (typeof v !== 'string')
        throw new HttpError(422, `For 'properties/${k}', ${JSON.stringify(v)} is not a string.`);
      inputs[k] = v;
    }
    actions.dispatch(repo, actor, {
      workflow: ctx.params.workflow ?? '',
      headBranch: ref.replace(/^refs\/heads\//, ''),
      headSha: sha,
      inputs,
    });
    return { status: 204 };
  });

  router.on('GET', '/repos/:owner/:repo/actions/workflows/:workflow/runs', (ctx) => {
    const repo = repoParam(ctx);
    const event = ctx.query.get('event');
    const headSha = ctx.query.get('head_sha');
    const runs = actions.runs
      .filter((r) => r.repoId === repo.id && r.workflow === ctx.params.workflow)
      .filter((r) => (!event || r.event === event) && (!headSha || r.headSha === headSha))
      .sort((a, b) => b.id - a.id);
    const { page, headers } = paginate(ctx, runs);
    return {
      body: { total_count: runs.length, workflow_runs: page.map((r) => actions.json(repo, r)) },
      headers,
    };
  });

  router.on('GET', '/repos/:owner/:repo/actions/runs/:id', (ctx) => {
    const repo = repoParam(ctx);
    const run = actions.runs.find((r) => r.repoId === repo.id && r.id === numberParam(ctx, 'id'));
    if (!run) throw notFound();
    return { body: actions.json(repo, run) };
  });
}
