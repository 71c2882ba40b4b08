export { allowAnyAddressForTests, isPublicAddress, type AddressPolicy } from './address-policy';
export { checkUrl, type CheckedUrl } from './check-url';
export {
  pinnedLookup,
  resolvePinnedAddress,
  resolveWithDns,
  type HostResolver,
} from './resolve-host';
export {
  fetchRemoteMedia,
  type FetchRemoteMediaOptions,
  type FetchedMedia,
} from './fetch-remote-media';
export {
  postToPublicUrl,
  resolvePublicTarget,
  type PostPublicOptions,
  type PublicTargetOptions,
} from './post-public';
