import type { Config } from '../config/load-config.js';
import { newRunId } from '../engine/handle-intake.js';
import { createRunProcessor } from '../engine/process-run.js';
import { createRedisConnection } from '../queue/redis-connection.js';
import type { Logger } from '../util/logger.js';
import { createContext } from './context.js';
import { redisFor } from './redis-for.js';

/**
 * `droidworks run --repo owner/name --issue N`: the resolve-issue workflow once, from the command
 * line, against GitHub with real credentials, without the gateway or the queue.
 */
export async function runIssue(o: {
  config: Config;
  logger: Logger;
  repo: string;
  issue: number;
}): Promise<number> {
  const [owner, name] = o.repo.split('/');
  if (!owner || !name) throw new Error(`--repo must look like owner/name, not "${o.repo}"`);
  const target = await redisFor(o.config, 'start', o.logger);
  const redis = createRedisConnection(target.url, { role: 'worker' });
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  try {
    const services = createContext(o.config, o.logger, redis);
    const runId = newRunId(name, o.issue, `cli-${Date.now()}`, 'resolve-issue');
    const issue = await services.github.getIssue({ owner, repo: name, issueNumber: o.issue });
    await createRunProcessor(services)(
      {
        runId,
        workflow: 'resolve-issue',
        repo: { owner, name },
        subject: { type: issue.isPullRequest ? 'pull' : 'issue', number: o.issue, title: issue.title },
        requestedBy: await services.github.getAuthenticatedLogin(),
        queuedAt: Date.now(),
      },
      controller.signal,
      { number: 1, max: 1 },
    );
    const state = await services.ledger.state(runId);
    console.log(
      `run ${runId}: ${state.status ?? 'unknown'}${state.pullRequest ? `, pull request #${state.pullRequest}` : ''}`,
    );
    await services.sandboxes.close();
    await services.workspaces.close();
    return state.status === 'succeeded' ? 0 : 1;
  } finally {
    redis.disconnect();
    await target.embedded?.stop();
  }
}
