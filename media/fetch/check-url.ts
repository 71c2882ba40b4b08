/**
 * The URL checks that happen before any network traffic: scheme, credentials, and host
 * shape. Numeric IPv4 forms (`2130706433`, `0x7f.1`, `017700000001`) need no special
 * case: the WHATWG URL parser canonicalises them to dotted decimal, which the address
 * policy then judges.
 */
import { isIP } from 'node:net';
import { MediaInputError } from '../media-input-error';

export interface CheckedUrl {
  url: URL;
  /** The host without IPv6 brackets. */
  hostname: string;
  /** Set when the host is an IP literal (no DNS lookup needed). */
  literalAddress?: string;
}

const ALLOWED_PROTOCOLS = new Set(['http:', 'https:']);

/** Parses `input` (relative to `base` when given) and throws `url-not-allowed` if it is not fetchable. */
export function checkUrl(input: string, base?: URL): CheckedUrl {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch (error) {
    throw new MediaInputError('url-not-allowed', `Not a valid URL: ${truncate(input)}`, {
      cause: error,
    });
  }
  if (!ALLOWED_PROTOCOLS.has(url.protocol)) {
    throw new MediaInputError(
      'url-not-allowed',
      `Only http and https URLs are fetched, not ${url.protocol}`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new MediaInputError(
      'url-not-allowed',
      'URLs with credentials (user@host) are not fetched',
    );
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (hostname === '') throw new MediaInputError('url-not-allowed', 'The URL has no host');
  return isIP(hostname) === 0 ? { url, hostname } : { url, hostname, literalAddress: hostname };
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
