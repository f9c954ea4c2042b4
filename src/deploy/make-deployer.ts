import type { DeployerConfig } from '../config/deploy-config.js';
import type { GitHubHost, RepoRef } from '../github/types.js';
import { redact } from '../util/redact.js';
import type { DeployServices } from './deploy-services.js';
import type { Deployer } from './types.js';
import { webhookDeployer } from './webhook-deployer.js';
import { workflowDeployer } from './workflow-deployer.js';

/** The deployer (or rollback hook) an environment names, with its secrets resolved on the host. */
export function makeDeployer(
  config: DeployerConfig,
  o: { readonly github: GitHubHost; readonly repo: RepoRef; readonly deploy: DeployServices },
): Deployer {
  const secrets = o.deploy.env.secrets;
  if (config.webhook) {
    const secret = secrets[config.webhook.secret];
    if (secret === undefined)
      return async () => ({ ok: false, summary: `unknown secret ${config.webhook!.secret}` });
    return webhookDeployer({
      url: config.webhook.url,
      secret,
      timeoutSec: config.webhook.timeoutSec,
      allowHosts: o.deploy.env.allowHosts,
    });
  }
  if (config.workflow)
    return workflowDeployer({
      github: o.github,
      repo: o.repo,
      file: config.workflow.file,
      ref: config.workflow.ref,
      inputs: config.workflow.inputs,
      timeoutSec: config.workflow.timeoutSec,
    });
  const command = config.command!;
  return async (request, signal) => {
    const run = o.deploy.runContainer;
    if (!run)
      return { ok: false, summary: 'command deployers need the Docker sandbox (DROIDWORKS_SANDBOX=docker)' };
    const env: Record<string, string> = {
      DROIDWORKS_ACTION: request.action,
      DROIDWORKS_REPOSITORY: request.repository,
      DROIDWORKS_ENVIRONMENT: request.environment,
      DROIDWORKS_SHA: request.sha,
      DROIDWORKS_PREVIOUS_SHA: request.previousSha ?? '',
      DROIDWORKS_DEPLOYMENT_ID: String(request.deploymentId),
      DROIDWORKS_RUN_ID: request.runId,
    };
    const values: string[] = [];
    for (const name of command.secrets) {
      const value = secrets[name];
      if (value === undefined) return { ok: false, summary: `unknown secret ${name}` };
      env[name] = value;
      values.push(value);
    }
    const result = await run({
      repo: o.repo,
      sha: request.sha,
      image: command.image ?? o.deploy.runnerImage,
      command: command.run,
      env,
      timeoutMs: command.timeoutSec * 1000,
      signal,
    });
    return {
      ok: result.exitCode === 0,
      summary: `\`${command.run}\` exited ${result.exitCode}`,
      output: redact(result.output, values).slice(-4000),
    };
  };
}
