/** Patterns of credentials GitHub and the model providers issue. */
const TOKEN_PATTERNS = [
  /gh[pousr]_[A-Za-z0-9]{20,}/g,
  /github_pat_[A-Za-z0-9_]{20,}/g,
  /sk-ant-[A-Za-z0-9_-]{10,}/g,
  /sk-[A-Za-z0-9_-]{20,}/g,
  /(authorization:\s*(?:bearer|token|basic)\s+)[^\s'"]+/gi,
  /(https?:\/\/)[^/\s:@]+:[^/\s@]+@/g,
];

/**
 * Replaces known secret values and anything shaped like a token with `[redacted]`.
 * Used on every error message and command output that may reach a log, a comment or a prompt.
 */
export function redact(text: string, secrets: Iterable<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 6) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of TOKEN_PATTERNS) {
    out = out.replace(pattern, (match, prefix?: string) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}[redacted]` : '[redacted]',
    );
  }
  return out;
}
