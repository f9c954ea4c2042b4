import type { Stack } from './start-stack.js';
import { pushFiles } from '../demo/forge/maintenance-test-api.js';

/** A repository prompt workflow on a 15-second schedule, for `droidworks demo --schedule`. */
const DEMO_WORKFLOW = [
  '---',
  'description: Keep the test suite green',
  'trigger:',
  '  schedule: { cron: "*/15 * * * * *", timezone: UTC }',
  '---',
  'Run the tests; if one fails, fix the code (not the test) so they pass.',
].join('\n');

/**
 * The scheduled half of the demo: alice pushes a scheduled prompt workflow to the default branch,
 * the push webhook re-syncs the schedules, and the next tick runs it on
 * `droid/maintenance/keep-green`, reported on the `droid:dashboard` issue. Returns the PR number.
 */
export async function demoSchedule(stack: Stack, say: (text: string) => void): Promise<number | undefined> {
  const repo = stack.repo.full;
  say('Scheduled maintenance: alice pushes .droidworks/workflows/keep-green.md (schedule "*/15 * * * * *").');
  await pushFiles(stack.forge, repo, {
    files: { '.droidworks/workflows/keep-green.md': DEMO_WORKFLOW },
    message: 'a scheduled droid that keeps the tests green',
    as: 'alice',
  });
  say('The push webhook re-synced the BullMQ job schedulers; waiting for the next tick (at most 15 s)…');
  const deadline = Date.now() + 10 * 60_000;
  let dashboardSeen = false;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const dashboard = [...stack.forge.state.requireRepo(repo).issues.values()].find(
      (i) => !i.pull && i.labels.includes('droid:dashboard'),
    );
    if (dashboard && !dashboardSeen) {
      dashboardSeen = true;
      say(
        `Dashboard issue #${dashboard.number} (label droid:dashboard) lists the workflow, its last and next run.`,
      );
    }
    const pr = stack.forge.pulls(repo).find((p) => p.pull.headRef === 'droid/maintenance/keep-green');
    if (pr) {
      say(
        `✅ The scheduled run opened PR #${pr.number} from droid/maintenance/keep-green; later ticks refresh it.`,
      );
      say(`   See it: curl -s ${stack.forge.url}/repos/${repo}/pulls/${pr.number}`);
      return pr.number;
    }
  }
  say('❌ No scheduled PR within 10 minutes.');
  return undefined;
}
