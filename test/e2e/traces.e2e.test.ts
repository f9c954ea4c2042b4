import { afterEach, expect, inject, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import { openIssue, outcomeOf, startE2E, type E2E } from '../support/e2e-stack.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { waitFor } from '../support/wait-for.js';

const redisUrl = inject('redisUrl');

describeDocker('OpenTelemetry traces', () => {
  let e2e: E2E | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await e2e?.close();
    await receiver?.close();
    e2e = receiver = undefined;
  });

  it('a real run sends spans for its delivery, run, steps, model calls and sandbox commands, each with the run id', async () => {
    receiver = await startOtlpReceiver();
    e2e = await startE2E(redisUrl, {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'droidworks-e2e' },
    });
    const { stack } = e2e;
    const issue = openIssue(stack, { body: 'add(2, 3) is -1, not 5.' });
    expect(await waitFor('the run to end', () => outcomeOf(stack, issue.number), 150_000)).toBe('droid:done');
    // Stopping the stack shuts the SDK down, which sends every span still buffered.
    await e2e.close();
    e2e = undefined;

    const spans = receiver.spans;
    expect(receiver.refused).toEqual([]);
    const named = (prefix: string): ReceivedSpan[] => spans.filter((s) => s.name.startsWith(prefix));
    const run = named('run ')[0];
    expect(run?.name).toBe('run resolve-issue');
    const runId = run!.attributes['droidworks.run.id'];
    expect(runId).toMatch(/\S/);
    expect(run!.attributes['droidworks.run.status']).toBe('succeeded');
    expect(run!.service).toBe('droidworks-e2e');

    // The delivery that started it: the same delivery id, answered 202.
    const delivery = spans.find(
      (s) =>
        s.name === 'webhook delivery' &&
        s.attributes['github.delivery'] === run!.attributes['github.delivery'],
    );
    expect(delivery?.attributes['http.response.status_code']).toBe(202);

    // droidworks' own spans carry the run id; the Anthropic SDK adds its call spans under `model …`.
    const inRun = spans.filter((s) => s.traceId === run!.traceId && /^(step|model|sandbox) /.test(s.name));
    expect(inRun.filter((s) => s.attributes['droidworks.run.id'] !== runId).map((s) => s.name)).toEqual([]);
    const sdk = spans.filter((s) => s.name === 'anthropic.messages.create');
    const modelSpans = new Set(inRun.filter((s) => s.name.startsWith('model ')).map((s) => s.spanId));
    expect(sdk.every((s) => s.parentSpanId && modelSpans.has(s.parentSpanId))).toBe(true);
    const steps = inRun.filter((s) => s.name.startsWith('step '));
    expect(steps.every((s) => s.parentSpanId === run!.spanId)).toBe(true);
    expect(steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['step checkout', 'step plan', 'step code', 'step test']),
    );

    const code = steps.find((s) => s.name === 'step code')!;
    const coder = inRun.filter((s) => s.name === 'model coder');
    expect(coder.length).toBeGreaterThan(0);
    expect(coder.every((s) => s.parentSpanId === code.spanId)).toBe(true);
    expect(coder[0]?.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-5.1',
    });
    expect(inRun.some((s) => s.name === 'model planner')).toBe(true);

    expect(inRun.filter((s) => s.name === 'sandbox acquire')).toHaveLength(1);
    const commands = inRun.filter((s) => s.name === 'sandbox command');
    expect(commands.length).toBeGreaterThan(0);
    expect(commands.every((s) => typeof s.attributes['process.exit.code'] === 'number')).toBe(true);
    // Secrets never reach a span.
    const text = JSON.stringify(spans);
    for (const secret of ['sk-test-openai-key-0123456789abcdef', 'sk-ant-test-key-0123456789abcdef'])
      expect(text).not.toContain(secret);
  });
});
