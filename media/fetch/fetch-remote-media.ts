/**
 * Safe intake of media from a URL the user supplied. Guarantees, for every hop:
 * only http/https, no credentials in the URL, the host resolved once and refused if ANY
 * of its addresses fails the address policy, and the TCP connection made to exactly the
 * checked address (pinned `lookup`), so DNS rebinding cannot move it. Redirects are
 * followed by hand (at most `maxRedirects`), each target checked the same way. The body
 * is streamed with a byte cap that holds whatever `Content-Length` claims, and the whole
 * fetch (all hops, DNS included) has one deadline.
 *
 * Failures: `MediaInputError` (non-retryable) with code `url-not-allowed`,
 * `too-large`, `unsupported-type` (content type not allowed), `too-many-redirects`,
 * `fetch-failed` (unknown host, or a 4xx answer other than 408/429) or `timeout`.
 * Everything else — refused or reset connections, 5xx, 408, 429, a body cut short — is a
 * plain `Error`, which Temporal retries.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { MediaInputError } from '../media-input-error';
import { isPublicAddress, type AddressPolicy } from './address-policy';
import { checkUrl } from './check-url';
import {
  pinnedLookup,
  resolvePinnedAddress,
  resolveWithDns,
  type HostResolver,
} from './resolve-host';

export interface FetchRemoteMediaOptions {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Deadline for the whole fetch: every DNS lookup, redirect and the body. */
  timeoutMs: number;
  /** Media types accepted (`image/png`, or `image/*`); any when omitted. */
  allowedContentTypes?: readonly string[];
  /** Host resolution. Default `dns.lookup(host, { all: true })`. */
  resolve?: HostResolver;
  /** Which addresses may be connected to. Default `isPublicAddress`. */
  addressPolicy?: AddressPolicy;
  /** Most redirects followed. Default 5. */
  maxRedirects?: number;
  /** Cancels the fetch; the abort reason is thrown unchanged. */
  signal?: AbortSignal;
  userAgent?: string;
}

export interface FetchedMedia {
  bytes: Buffer;
  /** Media type without parameters, lower case; undefined when the server sent none. */
  contentType?: string;
  /** The URL the body came from (after redirects). */
  url: string;
  /** The IP address the body was read from. */
  address: string;
  /** Every redirect target followed, in order. */
  redirects: string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const RETRYABLE_CLIENT_STATUSES = new Set([408, 425, 429]);

class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
}

/** Fetches `url` under the guarantees in the file comment. */
export async function fetchRemoteMedia(
  url: string,
  options: FetchRemoteMediaOptions,
): Promise<FetchedMedia> {
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new DeadlineExceeded(`Fetch exceeded ${options.timeoutMs} ms`)),
    options.timeoutMs,
  );
  const signal =
    options.signal === undefined
      ? deadline.signal
      : AbortSignal.any([deadline.signal, options.signal]);
  try {
    return await followRedirects(url, options, signal);
  } catch (error) {
    if (deadline.signal.aborted && !(error instanceof MediaInputError)) {
      throw new MediaInputError(
        'timeout',
        `Fetching ${url} took longer than ${options.timeoutMs} ms`,
        {
          cause: error,
        },
      );
    }
    if (options.signal?.aborted === true) throw asError(options.signal.reason);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function followRedirects(
  startUrl: string,
  options: FetchRemoteMediaOptions,
  signal: AbortSignal,
): Promise<FetchedMedia> {
  const resolve = options.resolve ?? resolveWithDns;
  const policy = options.addressPolicy ?? isPublicAddress;
  const maxRedirects = options.maxRedirects ?? 5;
  const redirects: string[] = [];
  let target = checkUrl(startUrl);
  for (;;) {
    const pinned = await abortable(resolvePinnedAddress(target, resolve, policy), signal);
    const response = await request(target.url, pinned, options.userAgent, signal);
    const status = response.statusCode ?? 0;
    if (REDIRECT_STATUSES.has(status)) {
      response.destroy();
      const location = response.headers.location;
      if (location === undefined) {
        throw new MediaInputError('fetch-failed', `Redirect ${status} without a Location header`);
      }
      if (redirects.length >= maxRedirects) {
        throw new MediaInputError('too-many-redirects', `More than ${maxRedirects} redirects`);
      }
      target = checkUrl(location, target.url);
      redirects.push(target.url.href);
      continue;
    }
    if (status < 200 || status > 299) {
      response.destroy();
      const message = `${target.url.href} answered HTTP ${status}`;
      if (status >= 400 && status < 500 && !RETRYABLE_CLIENT_STATUSES.has(status)) {
        throw new MediaInputError('fetch-failed', message);
      }
      throw new Error(message);
    }
    const contentType = mediaType(response.headers['content-type']);
    checkContentType(contentType, options.allowedContentTypes, response);
    const bytes = await readCapped(response, options.maxBytes);
    return { bytes, contentType, url: target.url.href, address: pinned.address, redirects };
  }
}

function request(
  url: URL,
  pinned: LookupAddress,
  userAgent: string | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(url, {
      method: 'GET',
      agent: false,
      lookup: pinnedLookup(pinned),
      signal,
      headers: {
        accept: '*/*',
        'accept-encoding': 'identity',
        'user-agent': userAgent ?? 't-developer-media-fetch',
      },
    });
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
    outgoing.end();
  });
}

async function readCapped(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge(maxBytes, `declares ${declared} bytes`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      response.destroy();
      throw tooLarge(maxBytes, 'sent more');
    }
    chunks.push(chunk);
  }
  if (!response.complete) throw new Error('The response body was cut short');
  return Buffer.concat(chunks, total);
}

function tooLarge(maxBytes: number, detail: string): MediaInputError {
  return new MediaInputError(
    'too-large',
    `The remote media ${detail}; the limit is ${maxBytes} bytes`,
  );
}

function mediaType(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type === undefined || type === '' ? undefined : type;
}

function checkContentType(
  contentType: string | undefined,
  allowed: readonly string[] | undefined,
  response: IncomingMessage,
): void {
  if (allowed === undefined) return;
  const accepted =
    contentType !== undefined &&
    allowed.some((pattern) => {
      const wanted = pattern.toLowerCase();
      return wanted.endsWith('/*')
        ? contentType.startsWith(wanted.slice(0, -1))
        : contentType === wanted;
    });
  if (accepted) return;
  response.destroy();
  throw new MediaInputError(
    'unsupported-type',
    `Content type ${contentType ?? '(none)'} is not one of ${allowed.join(', ')}`,
  );
}

function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
