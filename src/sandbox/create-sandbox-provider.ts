import {
  createDockerSandboxProvider,
  type DockerSandboxDeps,
  type SandboxSettings,
} from './docker-sandbox-provider.js';
import { createProcessSandboxProvider } from './process-sandbox-provider.js';
import type { SandboxProvider } from './types.js';

/** Picks the backend from configuration: `docker` (default) or the unisolated `process` backend. */
export function createSandboxProvider(settings: SandboxSettings, deps: DockerSandboxDeps): SandboxProvider {
  return settings.backend === 'process'
    ? createProcessSandboxProvider(settings, {
        logger: deps.logger,
        workRoot: deps.workRoot,
        maxOutputBytes: deps.maxOutputBytes,
      })
    : createDockerSandboxProvider(settings, deps);
}
