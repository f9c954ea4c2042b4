import type { RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';
import { detectTestCommand } from '../sandbox/detect-test-command.js';
import { runTests } from '../sandbox/run-tests.js';
import { redact } from '../util/redact.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Runs the repository's tests in the sandbox. On failure, and while rounds remain, the failing
 * output goes back to the coder (`goto: code`). Rounds are `.droidworks.yml` `testRounds`, lowered
 * by the step's `with: { rounds: n }` (dependency-update: one fix attempt).
 */
export const test: StepImpl<RunContext> = {
  async run(ctx, step) {
    const { state, repoConfig } = ctx;
    if (!state.workspace || !state.sandbox) throw new Error('test needs the checkout step first');
    const dir = state.workspace.dir;
    const detected = repoConfig.test.length
      ? { test: repoConfig.test.join(' && '), install: undefined, source: '.droidworks.yml' }
      : await detectTestCommand(async (path) => readFile(join(dir, path), 'utf8').catch(() => undefined));
    if (!detected) {
      ctx.state.note = 'No test command found (set `test:` in .droidworks.yml); tests were not run.';
      await ctx.sink.emit({ type: 'tests.skipped', reason: 'no test command' });
      return undefined;
    }
    const report = await runTests(state.sandbox, {
      test: detected.test,
      install: detected.install,
      signal: ctx.signal,
    });
    const round = state.codeRounds;
    state.tests = {
      command: detected.test,
      passed: report.passed,
      exitCode: report.exitCode,
      failedTests: report.failedTests,
      output: report.output,
      round,
      durationMs: report.durationMs,
    };
    await ctx.sink.emit({
      type: 'tests',
      command: detected.test,
      passed: report.passed,
      exitCode: report.exitCode,
      failedTests: report.failedTests,
      round,
      durationMs: report.durationMs,
      output: redact(report.output.slice(-4000), ctx.services.secrets),
    });
    await ctx.progress(true);
    const rounds = Math.min(
      repoConfig.testRounds,
      typeof step.options.rounds === 'number' ? step.options.rounds : Infinity,
    );
    if (report.passed || round >= rounds) return undefined;
    state.feedback = [
      `The tests failed (\`${detected.test}\`, exit code ${report.exitCode}${report.timedOut ? ', timed out' : ''}).`,
      report.failedTests.length ? `Failing: ${report.failedTests.join(', ')}` : '',
      'Output (capped):',
      report.output.slice(-6000),
    ]
      .filter(Boolean)
      .join('\n');
    return { goto: 'code' };
  },
};
