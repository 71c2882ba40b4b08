/**
 * Resolving a host once and pinning the connection to the address that was checked, so a
 * DNS answer that changes between check and connect (rebinding) cannot redirect it.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { MediaInputError } from '../media-input-error';
import type { AddressPolicy } from './address-policy';
import type { CheckedUrl } from './check-url';

/** Resolves a host name to all of its addresses (like `dns.lookup(name, { all: true })`). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

export const resolveWithDns: HostResolver = (hostname) =>
  dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Returns the one address to connect to. Throws `url-not-allowed` if ANY resolved address
 * fails the policy (a name that also points inside the network is refused outright), and
 * `fetch-failed` if the name does not resolve. Other DNS failures (e.g. `EAI_AGAIN`) are
 * plain errors, so they are retried.
 */
export async function resolvePinnedAddress(
  target: CheckedUrl,
  resolve: HostResolver,
  policy: AddressPolicy,
): Promise<LookupAddress> {
  if (target.literalAddress !== undefined) {
    const address = target.literalAddress;
    if (!policy(address)) throw refused(target.hostname, address);
    return { address, family: isIP(address) };
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(target.hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') {
      throw new MediaInputError('fetch-failed', `Host not found: ${target.hostname}`, {
        cause: error,
      });
    }
    throw error;
  }
  if (addresses.length === 0) {
    throw new MediaInputError('fetch-failed', `Host not found: ${target.hostname}`);
  }
  for (const { address } of addresses) {
    if (isIP(address) === 0 || !policy(address)) throw refused(target.hostname, address);
  }
  const first = addresses[0] as LookupAddress;
  return { address: first.address, family: isIP(first.address) };
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `http.request` that always answers with the pinned address, whatever
 * name it is asked for. Handles `{ all: true }`, which Node 20 asks for when it tries
 * address families in turn (`autoSelectFamily`).
 */
export function pinnedLookup(pinned: LookupAddress) {
  return function lookupPinnedAddress(
    _hostname: string,
    options: LookupOptions,
    callback: LookupCallback,
  ): void {
    if (options.all === true) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

function refused(hostname: string, address: string): MediaInputError {
  return new MediaInputError(
    'url-not-allowed',
    `Host ${hostname} resolves to ${address}, which is not a public address`,
  );
}
