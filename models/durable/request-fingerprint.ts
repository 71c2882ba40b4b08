/**
 * A fingerprint of everything that shapes a model's answer: model ref, system prompt,
 * messages (images by content hash), tools, output budget and temperature. Two calls of one
 * activity execution with equal fingerprints are interchangeable, so a retry may reuse
 * either's stored answer.
 */
import { createHash } from 'node:crypto';
import type { ModelRequest } from '../model-provider';

export function requestFingerprint(ref: string, request: ModelRequest): string {
  const canonical = JSON.stringify({
    ref,
    system: request.system ?? null,
    messages: request.messages.map((message) => ({
      role: message.role,
      text: message.text,
      images: (message.images ?? []).map(
        (image) => `${image.format}:${createHash('sha256').update(image.bytes).digest('hex')}`,
      ),
    })),
    tools: (request.tools ?? []).map((tool) => [tool.name, tool.description, tool.inputSchema]),
    maxTokens: request.maxTokens ?? null,
    temperature: request.temperature ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}
