import { afterEach, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../test/support/otlp-receiver.js';
import { checkOtlpEndpoint, OtlpEndpointError } from './check-otlp-endpoint.js';

describe('checkOtlpEndpoint (an in-process OTLP/HTTP receiver)', () => {
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('says off, accepted, refused or unreachable', async () => {
    const settings = (url: string | undefined) => ({ url, headers: { 'x-api-key': 'k' }, serviceName: 'dw' });
    expect(await checkOtlpEndpoint(settings(undefined))).toMatch(/^off/);
    receiver = await startOtlpReceiver();
    expect(await checkOtlpEndpoint(settings(`${receiver.url}/v1/traces`))).toMatch(/accepts traces/);
    await expect(checkOtlpEndpoint(settings(`${receiver.url}/v1/nope`))).rejects.toThrow(/answered HTTP 415/);
    const url = receiver.url;
    await receiver.close();
    receiver = undefined;
    await expect(checkOtlpEndpoint(settings(`${url}/v1/traces`))).rejects.toThrow(OtlpEndpointError);
    await expect(checkOtlpEndpoint(settings(`${url}/v1/traces`))).rejects.toThrow(/ECONNREFUSED/);
  });
});
