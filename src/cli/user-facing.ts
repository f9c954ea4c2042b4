import { ConfigError } from '../config/config-error.js';
import { GitHubAuthError } from '../github/errors.js';
import {
  GitHubAccessError,
  GitHubCredentialsError,
  GitHubRefusedError,
  GitHubUnreachableError,
} from '../github/reachability.js';
import { RedisServerMissingError } from '../queue/embedded-redis.js';
import { RedisUnreachableError } from '../queue/redis-connection.js';
import { DockerUnreachableError } from '../sandbox/check-docker.js';
import { SmeeUnreachableError } from './forward-smee.js';
import { OtlpEndpointError } from '../telemetry/check-otlp-endpoint.js';
import { PortInUseError } from './serve-gateway.js';

/** Errors whose message alone tells the user what to fix: printed as one message, no stack trace. */
const USER_FACING = [
  ConfigError,
  RedisServerMissingError,
  RedisUnreachableError,
  DockerUnreachableError,
  GitHubUnreachableError,
  GitHubRefusedError,
  GitHubCredentialsError,
  GitHubAccessError,
  GitHubAuthError,
  PortInUseError,
  SmeeUnreachableError,
  OtlpEndpointError,
] as const;

export function isUserFacing(err: unknown): err is Error {
  return USER_FACING.some((cls) => err instanceof cls);
}

/** 2 for configuration mistakes, 1 for something that cannot be reached. */
export function exitCodeFor(err: Error): number {
  return err instanceof ConfigError ? 2 : 1;
}
