import type { Config, ModelRef, ModelRole } from '../config/load-config.js';
import type { EventSink, RunEvent } from '../ledger/index.js';
import type { Logger } from '../util/logger.js';
import { redact } from '../util/redact.js';
import { createAnthropicProvider } from './anthropic-provider.js';
import { createOpenAIProvider } from './openai-provider.js';
import { costOf, loadPriceTable, type PriceTable } from './pricing.js';
import { retryDelay, sleep, type RetryPolicy } from './retry.js';
import {
  ModelError,
  type CompleteOptions,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ProviderName,
} from './types.js';

export type ModelsConfig = Config['models'];

export interface ModelRouterDeps {
  /** Providers to use instead of building them from the keys in config (tests, custom gateways). */
  readonly providers?: Partial<Record<ProviderName, ModelProvider>>;
  /** @defaultValue `loadPriceTable(models.pricesFile)` */
  readonly prices?: PriceTable;
  readonly retry?: RetryPolicy;
  /** Receives `model.retry` / `model.fallback` events when a call does not pass one. */
  readonly sink?: EventSink;
  readonly logger?: Logger;
}

/** Per-role `provider:model` lists that replace the server's (a repository's `.droidworks.yml` `models:`). */
export type RoleOverrides = Readonly<Partial<Record<ModelRole, readonly ModelRef[]>>>;

export interface RouteOptions extends CompleteOptions {
  /** Transcript for this call's retry and fallback events (the run's ledger). */
  readonly sink?: EventSink;
  /** Lists used instead of the server's for the roles they name. @defaultValue none */
  readonly roles?: RoleOverrides;
}

/** A model reply with where it came from and what it cost. */
export interface RoutedResponse extends ModelResponse {
  readonly provider: ProviderName;
  readonly model: string;
  /** Wall time of the whole call, retries and fallbacks included. */
  readonly latencyMs: number;
  /** USD, or `null` when the model is not in the price table. */
  readonly costUsd: number | null;
  /** HTTP attempts made, across providers. */
  readonly attempts: number;
}

/** Sends a request for a role to its ordered list of `provider:model` entries. */
export interface ModelRouter {
  complete(role: ModelRole, request: ModelRequest, options?: RouteOptions): Promise<RoutedResponse>;
}

const KEY_VARIABLE: Record<ProviderName, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
};

/**
 * Builds the role router. Each call tries the role's entries in order; an outage (connection
 * error, timeout, 5xx, or 429 once its retries are spent) falls over to the next entry and emits a
 * `model.fallback` event. Other errors (bad request, auth, cancellation) are thrown at once.
 * Entries whose provider has no key are skipped; with none left the call throws a `no_provider`
 * {@link ModelError} naming the variables to set. An OpenAI entry needs a key or a base URL
 * (local compatible servers often need no key).
 */
export function createModelRouter(models: ModelsConfig, deps: ModelRouterDeps = {}): ModelRouter {
  const providers: Partial<Record<ProviderName, ModelProvider>> = { ...deps.providers };
  if (!providers.openai && (models.openai.apiKey || models.openai.baseUrl))
    providers.openai = createOpenAIProvider({ apiKey: models.openai.apiKey, baseUrl: models.openai.baseUrl });
  if (!providers.anthropic && models.anthropic.apiKey)
    providers.anthropic = createAnthropicProvider({
      apiKey: models.anthropic.apiKey,
      baseUrl: models.anthropic.baseUrl,
    });
  const prices = deps.prices ?? loadPriceTable(models.pricesFile);
  const secrets = [models.openai.apiKey, models.anthropic.apiKey];

  async function emit(sink: EventSink | undefined, event: RunEvent) {
    if (!sink) return;
    try {
      await sink.emit(event);
    } catch (err) {
      deps.logger?.warn({ err, event: event.type }, 'could not record model event; continuing the call');
    }
  }

  return {
    async complete(role, request, options = {}) {
      const started = performance.now();
      const sink = options.sink ?? deps.sink;
      const entries = options.roles?.[role] ?? models.roles[role];
      const usable = entries.filter((e) => providers[e.provider]);
      if (usable.length === 0) {
        const missing = [...new Set(entries.map((e) => KEY_VARIABLE[e.provider]))].join(' or ');
        throw new ModelError(
          `no model available for role "${role}": ${entries.map(refName).join(', ')} need ${missing}`,
          'no_provider',
        );
      }
      let attempts = 0;
      const failures: string[] = [];
      let lastKind: ModelError['kind'] = 'server';
      for (const [index, entry] of usable.entries()) {
        const provider = providers[entry.provider] as ModelProvider;
        for (let retry = 0; ; retry++) {
          attempts++;
          try {
            const response = await provider.complete(entry.model, request, options);
            return {
              ...response,
              provider: entry.provider,
              model: entry.model,
              latencyMs: performance.now() - started,
              costUsd: costOf(prices, entry.model, response.usage),
              attempts,
            };
          } catch (err) {
            const error =
              err instanceof ModelError
                ? err
                : new ModelError(String(err), 'other', {
                    provider: entry.provider,
                    model: entry.model,
                    cause: err,
                  });
            if (!error.isOutage) throw error;
            const wait = retryDelay(error, retry, deps.retry);
            if (wait === null) {
              failures.push(error.message);
              lastKind = error.kind;
              const next = usable[index + 1];
              if (next)
                await emit(sink, {
                  type: 'model.fallback',
                  role,
                  from: refName(entry),
                  to: refName(next),
                  error: redact(error.message, secrets),
                  errorKind: error.kind,
                });
              break;
            }
            await emit(sink, {
              type: 'model.retry',
              role,
              model: refName(entry),
              attempt: retry + 1,
              delayMs: wait,
              error: redact(error.message, secrets),
              errorKind: error.kind,
            });
            await sleep(wait, options.signal);
          }
        }
      }
      throw new ModelError(
        `every model for role "${role}" failed: ${redact(failures.join('; '), secrets)}`,
        lastKind,
        { cause: failures },
      );
    },
  };
}

function refName(ref: ModelRef): string {
  return `${ref.provider}:${ref.model}`;
}
