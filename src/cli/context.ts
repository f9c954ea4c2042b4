import { join } from 'node:path';
import type { Config } from '../config/load-config.js';
import type { RunServices } from '../engine/run-context.js';
import { RunLedger } from '../ledger/index.js';
import { createGitHubHost } from '../github/create-github-host.js';
import type { GitHubHost } from '../github/types.js';
import { createModelRouter, type ModelRouter } from '../models/router.js';
import { createSandboxProvider } from '../sandbox/create-sandbox-provider.js';
import type { Logger } from '../util/logger.js';
import { builtinWorkflowsDir } from '../workflows/load-workflows.js';
import { createRepoSetupLoader } from '../engine/repo-setup.js';
import { createWorkspaceManager } from '../workspace/workspace-manager.js';
import type { Redis } from 'ioredis';
import { createDeployServices } from '../deploy/deploy-services.js';
import { dockerDeployRunner } from './deploy-runner.js';

/** The web address git clones from, derived from the API URL (github.com, or GHES `/api/v3`). */
export function gitBaseUrl(apiUrl: string): string {
  if (/^https:\/\/api\.github\.com\/?$/.test(apiUrl)) return 'https://github.com';
  return apiUrl.replace(/\/api\/v3\/?$/, '');
}

export interface ContextOverrides {
  readonly github?: GitHubHost;
  /** A router to use instead of the configured providers (the demo's scripted model). */
  readonly models?: ModelRouter;
}

/** Builds every adapter once, from configuration; passed down explicitly (no singletons). */
export function createContext(
  config: Config,
  logger: Logger,
  redis: Redis,
  overrides: ContextOverrides = {},
): RunServices {
  const github = overrides.github ?? createGitHubHost(config.github, { logger });
  const gitBase = gitBaseUrl(config.github.apiUrl);
  const secrets = [
    config.github.auth?.kind === 'token' ? config.github.auth.token : undefined,
    config.github.auth?.kind === 'app' ? config.github.auth.privateKey : undefined,
    config.github.webhookSecret,
    config.dashboardPassword,
    config.dashboard.token,
    config.dashboard.oauth?.clientSecret,
    config.models.openai.apiKey,
    config.models.anthropic.apiKey,
    ...Object.values(config.deploy.secrets),
    ...Object.values(config.tracing.headers),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
  return {
    config,
    logger,
    github,
    models:
      overrides.models ?? createModelRouter(config.models, { logger: logger.child({ component: 'models' }) }),
    sandboxes: createSandboxProvider(config.sandbox, {
      logger: logger.child({ component: 'sandbox' }),
      workRoot: join(config.dataDir, 'sandboxes'),
      namespace: config.queuePrefix,
    }),
    workspaces: createWorkspaceManager({
      dataDir: config.dataDir,
      cloneUrl: (owner, repo) => `${gitBase}/${owner}/${repo}.git`,
      getToken: async (owner, repo) => (await github.getGitToken({ owner, repo })).token,
      git: config.git,
      spares: config.worktreeSpares,
      logger,
    }),
    ledger: new RunLedger(redis, config.queuePrefix),
    repoSetup: createRepoSetupLoader(github, builtinWorkflowsDir()),
    dashboardUrl: config.publicUrl
      ? (runId) => `${config.publicUrl}/runs/${encodeURIComponent(runId)}`
      : undefined,
    secrets,
    deploy: createDeployServices({
      redis,
      prefix: config.queuePrefix,
      env: config.deploy,
      runnerImage: config.sandbox.image,
      runContainer:
        config.sandbox.backend === 'docker'
          ? dockerDeployRunner(config, github, (owner, repo) => `${gitBase}/${owner}/${repo}.git`)
          : undefined,
    }),
  };
}
