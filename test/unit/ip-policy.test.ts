import {
  allowAnyAddressForTests,
  checkUrl,
  isPublicAddress,
  pinnedLookup,
  resolvePinnedAddress,
  type HostResolver,
} from '../../media/fetch';
import { MediaInputError } from '../../media/media-input-error';

describe('isPublicAddress', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'CGNAT'],
    ['224.0.0.1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'this network'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::7f00:1', 'IPv4-compatible (deprecated)'],
    ['64:ff9b::7f00:1', 'NAT64 well-known prefix'],
    ['64:ff9b:1::a00:1', 'NAT64 local-use prefix'],
    ['2002:7f00:1::1', '6to4'],
    ['2001::1', 'Teredo'],
    ['2001:db8::1', 'documentation'],
    ['fec0::1', 'site-local (deprecated)'],
    ['not-an-address', 'garbage'],
    ['2130706433', 'decimal IPv4 (must be canonicalised by the URL parser, not here)'],
  ])('refuses %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  test.each(['8.8.8.8', '93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'admits public %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  test('the test-only policy admits loopback but not garbage', () => {
    expect(allowAnyAddressForTests('127.0.0.1')).toBe(true);
    expect(allowAnyAddressForTests('nonsense')).toBe(false);
  });
});

describe('checkUrl', () => {
  test.each([
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://017700000001/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[::1]:8080/x', '::1'],
  ])('canonicalises %s to the literal %s, which the policy refuses', (input, literal) => {
    const checked = checkUrl(input);
    expect(checked.literalAddress).toBe(literal);
    expect(isPublicAddress(literal)).toBe(false);
  });

  test.each([
    'file:///etc/passwd',
    'ftp://example.com/a',
    'gopher://example.com/',
    'data:text/plain,hi',
    'http://evil@127.0.0.1/',
    'http://user:pass@example.com/',
    'not a url',
  ])('refuses %s', (input) => {
    expect(() => checkUrl(input)).toThrow(MediaInputError);
    try {
      checkUrl(input);
    } catch (error) {
      expect((error as MediaInputError).code).toBe('url-not-allowed');
    }
  });

  test('keeps a host name for resolution and resolves relative redirects', () => {
    const first = checkUrl('https://media.example.com/a/b.png');
    expect(first.hostname).toBe('media.example.com');
    expect(first.literalAddress).toBeUndefined();
    expect(checkUrl('../c.png', first.url).url.href).toBe('https://media.example.com/c.png');
  });
});

describe('resolvePinnedAddress', () => {
  const resolver =
    (...addresses: string[]): HostResolver =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  test('pins the first address when every address is public', async () => {
    const pinned = await resolvePinnedAddress(
      checkUrl('http://cdn.example.com/'),
      resolver('93.184.216.34', '2606:4700::1'),
      isPublicAddress,
    );
    expect(pinned).toEqual({ address: '93.184.216.34', family: 4 });
  });

  test('refuses a host if ANY of its addresses is private', async () => {
    await expect(
      resolvePinnedAddress(
        checkUrl('http://mixed.example.com/'),
        resolver('93.184.216.34', '10.0.0.5'),
        isPublicAddress,
      ),
    ).rejects.toMatchObject({ code: 'url-not-allowed' });
  });

  test('an unknown host is fetch-failed', async () => {
    const notFound: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    await expect(
      resolvePinnedAddress(checkUrl('http://nope.invalid/'), notFound, isPublicAddress),
    ).rejects.toMatchObject({ code: 'fetch-failed' });
  });

  test('the pinned lookup answers with the pinned address whatever it is asked', () => {
    const lookup = pinnedLookup({ address: '93.184.216.34', family: 4 });
    const single = jest.fn();
    const all = jest.fn();
    lookup('anything.example', {}, single);
    lookup('anything.example', { all: true }, all);
    expect(single).toHaveBeenCalledWith(null, '93.184.216.34', 4);
    expect(all).toHaveBeenCalledWith(null, [{ address: '93.184.216.34', family: 4 }]);
  });
});
