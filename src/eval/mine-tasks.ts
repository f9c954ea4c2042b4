import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GitHubHost, RepoRef } from '../github/types.js';
import { detectTestCommand } from '../sandbox/detect-test-command.js';
import { runTests, type TestReport } from '../sandbox/run-tests.js';
import type { SandboxProvider } from '../sandbox/types.js';
import { redact } from '../util/redact.js';
import { applyPatch, checkoutAt, hostGit } from './checkout.js';
import type { EvalTask } from './task-file.js';

/** Why a merged fix did not become a task. */
export interface DroppedCandidate {
  readonly pull: number;
  readonly issue?: number;
  readonly reason: string;
}

export interface MineDeps {
  readonly github: Pick<GitHubHost, 'listMergedPulls' | 'getIssue' | 'listComments'>;
  readonly sandboxes: SandboxProvider;
  /** A local mirror of the repository (see `mirrorRepository`). */
  readonly mirror: string;
  /** Overrides the detected test command. */
  readonly testCommand?: string;
  readonly secrets?: readonly (string | undefined)[];
  readonly signal?: AbortSignal;
  /** After each candidate, kept or dropped. */
  readonly onCandidate?: (pull: number, outcome: EvalTask | DroppedCandidate) => void;
}

const CLOSING = /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+#(\d+)\b/gi;

/** Issue numbers a pull request's body closes with GitHub's keywords (`Fixes #12`). Pure. */
export function closedIssues(body: string): number[] {
  return [...new Set([...body.matchAll(CLOSING)].map((m) => Number(m[1])))];
}

/** Whether a path is a test file by the common conventions of JS, Python, Go, Rust, Java and Ruby. Pure. */
export function isTestPath(path: string): boolean {
  return (
    /(^|\/)(tests?|__tests__|spec|specs|testing)\//.test(path) ||
    /[._-](test|spec)\.[cm]?[jt]sx?$/.test(path) ||
    /(^|\/)test_[^/]*\.py$|_test\.py$/.test(path) ||
    /_test\.go$/.test(path) ||
    /(Test|Tests|IT)\.(java|kt)$/.test(path) ||
    /_spec\.rb$/.test(path)
  );
}

/**
 * `droidworks eval mine`: issues closed by a merged pull request (a closing keyword in its title, body
 * or one of its commits' messages) that changed at least one test file and one other file become tasks. The base is the merge commit's first parent; the problem is the
 * issue's title, body and the comments written before the merge; FAIL_TO_PASS are the tests that fail
 * at the base with the PR's test changes (the same ones in two runs) and pass with the whole fix,
 * all runs in a fresh sandbox, and PASS_TO_PASS those that pass in both. Candidates whose tests
 * cannot be run that way, or not reproducibly, are dropped with the reason.
 */
export async function mineTasks(
  deps: MineDeps,
  repo: RepoRef,
  options: { readonly since: Date; readonly limit: number },
): Promise<{ tasks: EvalTask[]; dropped: DroppedCandidate[] }> {
  const tasks: EvalTask[] = [];
  const dropped: DroppedCandidate[] = [];
  const pulls = await deps.github.listMergedPulls(
    repo,
    { since: options.since, limit: 500 },
    { signal: deps.signal },
  );
  for (const pull of pulls) {
    if (tasks.length >= options.limit) break;
    const base = (await hostGit(deps.mirror, ['rev-parse', `${pull.mergeCommitSha}^1`], deps.signal)).trim();
    let issues = closedIssues(`${pull.title}\n${pull.body}`);
    // GitHub also closes an issue named by a closing keyword in a commit of the PR (the timeline's
    // `closed` event then names that commit): read the PR's commit messages from the mirror.
    if (issues.length === 0)
      issues = closedIssues(
        await hostGit(deps.mirror, ['log', '--format=%B', `${base}..${pull.mergeCommitSha}`], deps.signal),
      );
    if (issues.length === 0) continue;
    const drop = (reason: string, issue?: number) => {
      const d = { pull: pull.number, ...(issue !== undefined ? { issue } : {}), reason };
      dropped.push(d);
      deps.onCandidate?.(pull.number, d);
    };
    const issueNumber = issues[0]!;
    const issue = await deps.github
      .getIssue({ ...repo, issueNumber }, { signal: deps.signal })
      .catch(() => undefined);
    if (!issue || issue.isPullRequest) {
      drop(`#${issueNumber} is not an issue of this repository`, issueNumber);
      continue;
    }
    const files = (
      await hostGit(deps.mirror, ['diff', '--name-only', base, pull.mergeCommitSha], deps.signal)
    )
      .split('\n')
      .filter(Boolean);
    const testFiles = files.filter(isTestPath);
    const codeFiles = files.filter((f) => !isTestPath(f));
    if (testFiles.length === 0) {
      drop('the fix changed no test file', issueNumber);
      continue;
    }
    if (codeFiles.length === 0) {
      drop('the fix changed only test files', issueNumber);
      continue;
    }
    const diff = (paths: string[]) =>
      hostGit(deps.mirror, ['diff', '--binary', base, pull.mergeCommitSha, '--', ...paths], deps.signal);
    const testPatch = await diff(testFiles);
    const goldPatch = await diff(codeFiles);

    const runs = await testTwice(deps, base, testPatch, goldPatch, `${repo.repo}-${pull.number}`);
    if ('error' in runs) {
      drop(runs.error, issueNumber);
      continue;
    }
    const { before, after } = runs;
    if (before.passed) {
      drop('the tests pass at the base with the test changes: nothing fails before the fix', issueNumber);
      continue;
    }
    if (!after.passed) {
      drop(
        `the tests fail even with the fix (exit ${after.exitCode}${after.failedTests.length ? `: ${after.failedTests.slice(0, 5).join(', ')}` : ''})`,
        issueNumber,
      );
      continue;
    }
    if (before.failedTests.length === 0) {
      drop('the failing tests could not be named from the test output (unknown reporter)', issueNumber);
      continue;
    }
    const comments = (await deps.github.listComments({ ...repo, issueNumber }, { signal: deps.signal }))
      .filter((c) => c.createdAt < pull.mergedAt)
      .map((c) => `## comment by @${c.author.login}\n${c.body}`);
    const task: EvalTask = {
      instance_id: `${repo.owner}__${repo.repo}-${pull.number}`,
      repo: `${repo.owner}/${repo.repo}`,
      base_commit: base,
      problem_statement: [issue.title, issue.body, ...comments].filter(Boolean).join('\n\n'),
      test_patch: testPatch,
      patch: goldPatch,
      FAIL_TO_PASS: before.failedTests,
      // Passing before the fix and (the whole suite passed) after it.
      PASS_TO_PASS: before.passedTests.filter((t) => !before.failedTests.includes(t)),
    };
    tasks.push(task);
    deps.onCandidate?.(pull.number, task);
  }
  return { tasks, dropped };
}

/**
 * The tests at the base with the test patch (twice, with the install command first), then with the
 * fix too, in one fresh sandbox.
 */
async function testTwice(
  deps: MineDeps,
  base: string,
  testPatch: string,
  goldPatch: string,
  name: string,
): Promise<{ before: TestReport; after: TestReport } | { error: string }> {
  const sandbox = await deps.sandboxes.acquire({
    runId: `eval-mine-${name}`.slice(0, 100),
    signal: deps.signal,
  });
  const scratch = await mkdtemp(join(tmpdir(), 'dw-mine-'));
  try {
    const dir = sandbox.workspaceDir;
    await checkoutAt(deps.mirror, dir, base, deps.signal);
    try {
      await applyPatch(dir, testPatch, join(scratch, 'test.patch'), deps.signal);
    } catch (err) {
      return { error: `the test changes do not apply at the base: ${text(err, deps)}` };
    }
    const test = deps.testCommand
      ? { test: deps.testCommand, install: undefined }
      : await detectTestCommand((path) => readFile(join(dir, path), 'utf8').catch(() => undefined));
    if (!test) return { error: 'no test command could be detected (pass --test-command)' };
    const before = await runTests(sandbox, { test: test.test, install: test.install, signal: deps.signal });
    if (before.installFailed)
      return { error: `the install command \`${test.install}\` fails at the base (exit ${before.exitCode})` };
    // Run again: a candidate whose failures change from run to run has no reliable FAIL_TO_PASS.
    const again = await runTests(sandbox, { test: test.test, signal: deps.signal });
    const names = (r: TestReport) => [...r.failedTests].sort().join('\n');
    if (again.passed !== before.passed || names(again) !== names(before))
      return {
        error: `the tests are not reproducible: two runs at the base with the test changes disagree (${before.failedTests.length} then ${again.failedTests.length} failing)`,
      };
    await applyPatch(dir, goldPatch, join(scratch, 'fix.patch'), deps.signal);
    const after = await runTests(sandbox, { test: test.test, signal: deps.signal });
    return { before, after };
  } finally {
    await sandbox.release();
    await rm(scratch, { recursive: true, force: true });
  }
}

function text(err: unknown, deps: MineDeps): string {
  const e = err as { stderr?: string; message?: string };
  return redact((e.stderr?.trim() || e.message || String(err)).slice(0, 500), deps.secrets ?? []);
}
