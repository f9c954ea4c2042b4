import type { RunContext } from '../engine/run-context.js';
import type { StepImpl } from '../engine/run-steps.js';
import { approve } from './approve.js';
import { checkout } from './checkout.js';
import { code } from './code.js';
import { deploy } from './deploy.js';
import { gate } from './gate.js';
import { plan } from './plan.js';
import { publish } from './publish.js';
import { report } from './report.js';
import { review } from './review.js';
import { rollback } from './rollback.js';
import { test } from './test.js';
import { verify } from './verify.js';
import { staleBranches } from './stale-branches.js';
import { flakyTests } from './flaky-tests.js';
import { dependencyUpdate } from './dependency-update.js';

/** Step kinds this release implements; a workflow naming another fails validation before it runs. */
export const STEP_IMPLS: Readonly<Record<string, StepImpl<RunContext>>> = {
  checkout,
  plan,
  approve,
  code,
  test,
  review,
  publish,
  report,
  gate,
  deploy,
  verify,
  rollback,
  'stale-branches': staleBranches,
  'flaky-tests': flakyTests,
  'dependency-update': dependencyUpdate,
};
