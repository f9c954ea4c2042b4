import { verify } from 'node:crypto';

export type JwtCheck =
  { readonly ok: true; readonly appId: string } | { readonly ok: false; readonly reason: string };

const decode = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

/**
 * Verifies a GitHub App JWT as GitHub does: RS256 over `header.payload` with the App's public key,
 * `iss` = the App id, `exp` in the future and at most 10 minutes after `iat`.
 */
export function verifyAppJwt(token: string, publicKeyPem: string, appId: number, nowMs: number): JwtCheck {
  const [head = '', body = '', signature = ''] = token.split('.');
  let header: unknown;
  let claims: unknown;
  try {
    header = decode(head);
    claims = decode(body);
  } catch (err) {
    return { ok: false, reason: `A JSON web token could not be decoded (${String(err)})` };
  }
  if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'RS256')
    return { ok: false, reason: 'A JSON web token could not be decoded' };
  const valid = verify(
    'RSA-SHA256',
    Buffer.from(`${head}.${body}`),
    publicKeyPem,
    Buffer.from(signature, 'base64url'),
  );
  if (!valid) return { ok: false, reason: 'A JSON web token could not be decoded' };
  const { iss, iat, exp } = (claims ?? {}) as { iss?: unknown; iat?: unknown; exp?: unknown };
  const now = Math.floor(nowMs / 1000);
  if (String(iss) !== String(appId))
    return { ok: false, reason: "'Issuer' claim ('iss') must be an Integer" };
  if (typeof exp !== 'number' || exp <= now)
    return {
      ok: false,
      reason:
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
    };
  if (typeof iat !== 'number' || iat > now + 60 || exp - iat > 600)
    return {
      ok: false,
      reason:
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
    };
  return { ok: true, appId: String(iss) };
}
