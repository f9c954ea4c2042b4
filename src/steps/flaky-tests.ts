import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';
import { detectTestCommand } from '../sandbox/detect-test-command.js';
import { runTests } from '../sandbox/run-tests.js';
import { FLAKY_LABEL, findFlaky, renderFlaky, type TestRerun } from '../schedules/find-flaky.js';
import { redact } from '../util/redact.js';

/**
 * Runs the test command `reruns` times on the default branch in the sandbox; tests that both pass and
 * fail are reported in ONE issue labelled `droid:flaky` (found by its label, updated in place).
 */
export const flakyTests: StepImpl<RunContext> = {
  async run(ctx) {
    const { state, repoConfig, services, job } = ctx;
    if (!state.workspace || !state.sandbox) throw new Error('flaky-tests needs the checkout step first');
    const dir = state.workspace.dir;
    const detected = repoConfig.test.length
      ? { test: repoConfig.test.join(' && '), install: undefined }
      : await detectTestCommand(async (path) => readFile(join(dir, path), 'utf8').catch(() => undefined));
    if (!detected) {
      state.note = 'No test command found (set `test:` in .droidworks.yml); nothing to rerun.';
      return undefined;
    }
    const reruns = repoConfig.maintenance['flaky-tests']?.reruns ?? 5;
    const results: TestRerun[] = [];
    for (let i = 0; i < reruns; i += 1) {
      const report = await runTests(state.sandbox, {
        test: detected.test,
        install: i === 0 ? detected.install : undefined,
        signal: ctx.signal,
      });
      results.push({
        passed: report.passed,
        failedTests: report.failedTests,
        output: redact(report.output, services.secrets),
      });
      await ctx.sink.emit({ type: 'tests', command: detected.test, passed: report.passed, rerun: i + 1 });
    }
    const flaky = findFlaky(results);
    const repo = { owner: job.repo.owner, repo: job.repo.name };
    const body = renderFlaky({
      flaky,
      command: detected.test,
      runs: reruns,
      runId: ctx.runId,
      at: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    });
    const existing = await services.github.findIssueByLabel(repo, FLAKY_LABEL, { signal: ctx.signal });
    if (existing)
      await services.github.updateIssue(
        { ...repo, issueNumber: existing.number },
        { body, ...(flaky.length && existing.state === 'closed' ? { state: 'open' as const } : {}) },
        { signal: ctx.signal },
      );
    else if (flaky.length > 0)
      await services.github.createIssue(
        repo,
        { title: 'Flaky tests found by droidworks', body, labels: [FLAKY_LABEL] },
        { signal: ctx.signal },
      );
    await ctx.sink.emit({ type: 'flaky_tests', flaky: flaky.map((f) => f.name), reruns });
    state.note = flaky.length
      ? `Flaky: ${flaky.map((f) => `${f.name} (${f.failures}/${f.runs})`).join(', ')}.`
      : `No flaky test in ${reruns} runs.`;
    return undefined;
  },
};
