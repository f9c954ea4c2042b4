import { Webhooks } from '@octokit/webhooks';

/** Checks `X-Hub-Signature-256` over the raw request body, in constant time (@octokit/webhooks). */
export interface WebhookVerifier {
  verify(rawBody: string, signature: string): Promise<boolean>;
  sign(rawBody: string): Promise<string>;
}

export function createWebhookVerifier(secret: string): WebhookVerifier {
  const webhooks = new Webhooks({ secret });
  return {
    async verify(rawBody, signature) {
      if (!/^sha256=[0-9a-f]{64}$/.test(signature)) return false;
      return webhooks.verify(rawBody, signature);
    },
    sign: (rawBody) => webhooks.sign(rawBody),
  };
}
