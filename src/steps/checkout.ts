import type { RepoConfig } from '../config/repo-config.js';
import type { RunContext } from '../engine/run-context.js';
import { StepFailedError, type StepImpl } from '../engine/run-steps.js';
import type { AcquireOptions, CommandResult } from '../sandbox/types.js';
import { droidBranch } from '../workspace/branch-name.js';

/** What a run asks of its sandbox: the repository's image, service sidecars and network allowlist. */
export function sandboxRequestFor(
  repoConfig: RepoConfig,
  runId: string,
  signal: AbortSignal,
): AcquireOptions {
  return {
    runId,
    image: repoConfig.image,
    services: repoConfig.services.map((s) => ({
      name: s.name,
      image: s.image,
      env: s.env,
      command: s.command,
      health: s.health,
    })),
    networkAllowlist: repoConfig.network.allow,
    signal,
  };
}

/**
 * Reads the issue thread, starts the run's sandbox (with the repository's service sidecars) and
 * checks the repository out into it: a new `droid/<n>-<slug>` branch, or the PR's existing branch.
 */
export const checkout: StepImpl<RunContext> = {
  async run(ctx) {
    const { services, job, state, repoConfig } = ctx;
    const { owner, name } = job.repo;
    const ref = { owner, repo: name, issueNumber: job.subject.number };
    // A scheduled maintenance run's task is its workflow's prompt, not the dashboard issue.
    const maintenance = job.maintenance ? await services.maintenance?.checkout(ctx) : undefined;
    const [issue, comments] = maintenance
      ? [{ title: maintenance.title, body: maintenance.body }, []]
      : await Promise.all([
          services.github.getIssue(ref, { signal: ctx.signal }),
          services.github.listComments(ref, { signal: ctx.signal }),
        ]);
    state.issue = {
      title: issue.title,
      body: issue.body ?? '',
      // The droid's own comments (progress, replies) are not part of the task.
      comments: comments
        .filter((c) => c.author.type !== 'Bot')
        .map((c) => ({ user: c.author.login, body: c.body })),
    };
    // A resumed run (its worker died) first removes what its earlier attempt left behind.
    const started = performance.now();
    const mine = (id: string): boolean => id !== ctx.runId;
    await services.sandboxes.sweep(mine, ctx.signal);
    await services.workspaces.sweep(mine, ctx.signal);
    const swept = performance.now();
    state.sandbox = await services.sandboxes.acquire(sandboxRequestFor(repoConfig, ctx.runId, ctx.signal));
    // Its own line, so a checkout that hangs shows whether Docker or git (`workspace ready`) is slow.
    ctx.log.info(
      {
        sandbox: state.sandbox.backend,
        sweepMs: Math.round(swept - started),
        ms: Math.round(performance.now() - swept),
      },
      'sandbox ready',
    );
    // A command or review on a pull request works on that PR's own branch.
    let branch = job.branch;
    if (!branch && job.subject.type === 'pull')
      branch = (
        await services.github.getPullRequest({ owner, repo: name }, job.subject.number, {
          signal: ctx.signal,
        })
      ).headRef;
    const existing = maintenance ? maintenance.existing : branch !== undefined;
    state.workspace = await services.workspaces.prepare({
      runId: ctx.runId,
      owner,
      repo: name,
      branch: branch ?? droidBranch(job.subject.number, issue.title),
      mode: existing ? 'existing' : 'new',
      dir: state.sandbox.workspaceDir,
      fileOwner: state.sandbox.user,
      signal: ctx.signal,
    });
    for (const command of repoConfig.install) {
      const result = await state.sandbox.exec(command, { signal: ctx.signal });
      await ctx.sink.emit({
        type: 'install',
        command,
        exitCode: result.exitCode,
        durationMs: result.durationMs,
      });
      if (result.exitCode !== 0) throw installFailed(command, result);
    }
    ctx.log.info({ branch: state.workspace.branch, sandbox: state.sandbox.backend }, 'workspace ready');
  },
};

/** A failing `install` command ends the run: its command, exit code and the end of its output. */
function installFailed(command: string, result: CommandResult): StepFailedError {
  const why = result.timedOut
    ? 'timed out'
    : result.oomKilled
      ? 'ran out of memory'
      : `exited with code ${result.exitCode}`;
  const output = `${result.stdout}\n${result.stderr}`.trim().slice(-800).replace(/`{3,}/g, '`‵`');
  return new StepFailedError(
    'checkout',
    `the install command \`${command}\` ${why}${output ? `:\n\n\`\`\`\n${output}\n\`\`\`` : ''}`,
    false,
  );
}
