/**
 * Response cache (seed 1.13) in Redis: opt-in per step, and only for deterministic settings
 * (temperature 0, no tools). The key is a SHA-256 of the tenant and the normalised request — model ref,
 * system prompt, messages (Unicode NFC, line endings unified, outer whitespace trimmed),
 * images by content hash, output budget — so equal requests share an entry whatever worker
 * asks. Entries expire (default 24 h). A cache that fails (Redis down) is a miss, never an
 * error: the model is asked.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ModelRequest, ModelResponse } from './model-provider';

export interface ResponseCacheOptions {
  redis: Redis;
  keyPrefix?: string;
  ttlSeconds?: number;
}

/** True when the request's answer may be reused: deterministic decoding and no tools. */
export function isCacheable(request: ModelRequest): boolean {
  return request.temperature === 0 && !request.tools?.length;
}

const normalise = (text: string): string => text.normalize('NFC').replace(/\r\n?/g, '\n').trim();

/**
 * The cache key of `request` on model `ref` for `tenantId`: tenants never share entries (an
 * answer may carry what one tenant's prompt said), so the tenant is part of the key.
 */
export function cacheKeyOf(ref: string, request: ModelRequest, tenantId?: string): string {
  const canonical = JSON.stringify({
    tenant: tenantId ?? null,
    ref,
    system: request.system === undefined ? null : normalise(request.system),
    messages: request.messages.map((message) => ({
      role: message.role,
      text: normalise(message.text),
      images: (message.images ?? []).map(
        (image) => `${image.format}:${createHash('sha256').update(image.bytes).digest('hex')}`,
      ),
    })),
    maxTokens: request.maxTokens ?? null,
    temperature: request.temperature ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

export class ResponseCache {
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(private readonly options: ResponseCacheOptions) {
    this.prefix = options.keyPrefix ?? 'tdev:llm-cache:';
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
  }

  async get(key: string): Promise<ModelResponse | undefined> {
    try {
      const raw = await this.options.redis.get(this.prefix + key);
      return raw ? (JSON.parse(raw) as ModelResponse) : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, response: ModelResponse): Promise<void> {
    try {
      await this.options.redis.set(
        this.prefix + key,
        JSON.stringify(response),
        'EX',
        this.ttlSeconds,
      );
    } catch {
      // A cache write that fails only costs a future miss.
    }
  }
}
