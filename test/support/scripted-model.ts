import { scriptedRoleOf, scriptedTurn } from '../../src/demo/scripted-turns.js';
import { fakeReply, type FakeHandler, type RecordedRequest } from './fake-model-server.js';

/** The system prompt of a recorded request, in either wire format. */
export function systemOf(request: RecordedRequest): string {
  const body = request.body as { system?: unknown; messages?: Array<{ role: string; content: unknown }> };
  if (request.format === 'anthropic') {
    if (typeof body.system === 'string') return body.system;
    if (Array.isArray(body.system)) return body.system.map((b: { text?: string }) => b.text ?? '').join('\n');
    return '';
  }
  const first = body.messages?.find((m) => m.role === 'system');
  return typeof first?.content === 'string' ? first.content : JSON.stringify(first?.content ?? '');
}

/** How many assistant turns the request's history holds (= coder turns already answered). */
export function assistantTurns(request: RecordedRequest): number {
  const body = request.body as { messages?: Array<{ role: string }> };
  return (body.messages ?? []).filter((m) => m.role === 'assistant').length;
}

/**
 * A fake-model-server handler that plays the demo's scripted turns over the real wire formats;
 * `override` lets a test replace the coder's turn (e.g. an injected, obedient model).
 */
export function scriptedHandler(
  override?: (request: RecordedRequest, role: string, turn: number) => ReturnType<FakeHandler> | undefined,
): FakeHandler {
  return (request) => {
    const role = scriptedRoleOf(systemOf(request));
    const turn = assistantTurns(request);
    const custom = override?.(request, role, turn);
    if (custom) return custom;
    const next = scriptedTurn(role, turn);
    return next.toolCall
      ? fakeReply.tool(next.toolCall.name, next.toolCall.arguments)
      : fakeReply.text(next.text ?? '');
  };
}
