/**
 * An outbound POST under the same guarantees as the media fetcher (see fetch-remote-media.ts):
 * http/https only, no credentials in the URL, the host resolved once and refused if ANY of its
 * addresses fails the address policy, the connection pinned to the checked address. Redirects
 * are not followed (a 3xx is an answer like any other). Used for webhook deliveries.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { isPublicAddress, type AddressPolicy } from './address-policy';
import { checkUrl, type CheckedUrl } from './check-url';
import {
  pinnedLookup,
  resolvePinnedAddress,
  resolveWithDns,
  type HostResolver,
} from './resolve-host';

export interface PublicTargetOptions {
  /** Which addresses may be connected to. Default `isPublicAddress`. */
  addressPolicy?: AddressPolicy;
  resolve?: HostResolver;
}

/**
 * Checks `url` and resolves its host under the policy. Throws `MediaInputError`
 * (`url-not-allowed`, or `fetch-failed` for an unknown host); other DNS failures are plain
 * errors (retry).
 */
export async function resolvePublicTarget(
  url: string,
  options: PublicTargetOptions = {},
): Promise<{ target: CheckedUrl; pinned: LookupAddress }> {
  const target = checkUrl(url);
  const pinned = await resolvePinnedAddress(
    target,
    options.resolve ?? resolveWithDns,
    options.addressPolicy ?? isPublicAddress,
  );
  return { target, pinned };
}

export interface PostPublicOptions extends PublicTargetOptions {
  headers: Record<string, string>;
  body: string;
  /** Deadline for connecting, sending and reading the status. */
  timeoutMs: number;
}

/** POSTs `body` to `url` (guarded as above); resolves with the answer's status. */
export async function postToPublicUrl(url: string, options: PostPublicOptions): Promise<number> {
  const { target, pinned } = await resolvePublicTarget(url, options);
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(target.url, {
      method: 'POST',
      agent: false,
      lookup: pinnedLookup(pinned),
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    });
    outgoing.once('response', (response) => {
      // The answer's body is not needed: read it away so the socket closes.
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.once('error', reject);
    outgoing.end(options.body);
  });
}
