/**
 * API keys for programs: `tdk_<key id>_<secret>`, a 16-hex-digit id and a 256-bit random
 * secret (base64url). Only the sha-256 of the whole key is stored; the key itself is shown once,
 * when it is created. The id names the stored record, so checking a key is one lookup and one
 * constant-time comparison of hashes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'tdk_';
const API_KEY_PATTERN = /^tdk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewApiKey {
  keyId: string;
  /** The full key, `tdk_<id>_<secret>`: shown to its creator once, never stored. */
  key: string;
  /** sha-256 (hex) of `key`: what is stored. */
  secretHash: string;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(): NewApiKey {
  const keyId = randomBytes(8).toString('hex');
  const key = `${API_KEY_PREFIX}${keyId}_${randomBytes(32).toString('base64url')}`;
  return { keyId, key, secretHash: hashApiKey(key) };
}

/** The key id of a well-formed key, else undefined. */
export function parseApiKey(key: string): { keyId: string } | undefined {
  const match = API_KEY_PATTERN.exec(key);
  return match?.[1] ? { keyId: match[1] } : undefined;
}

export function isApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX);
}

/** True when `key` hashes to `secretHash` (constant time). */
export function apiKeyMatches(key: string, secretHash: string): boolean {
  const actual = Buffer.from(hashApiKey(key), 'hex');
  const expected = Buffer.from(secretHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
