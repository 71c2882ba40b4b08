import { SignJWT, generateKeyPair, exportJWK, type JWK } from 'jose';
import { createTokenVerifier, mintToken, TokenRejectedError } from '../../runtime/auth/tokens';

const issuer = 'https://auth.test';
const audience = 't-developer-api';
let privateJwk: JWK;
let verify: (token: string) => Promise<unknown>;

beforeAll(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  privateJwk = await exportJWK(privateKey);
  verify = await createTokenVerifier({
    issuer,
    audience,
    algorithms: ['ES256'],
    key: { jwk: await exportJWK(publicKey) },
  });
});

const mint = (overrides: Partial<Parameters<typeof mintToken>[0]> = {}) =>
  mintToken({
    privateJwk,
    algorithm: 'ES256',
    issuer,
    audience,
    tenantId: 'acme',
    userId: 'ada',
    ...overrides,
  });

const rejection = async (token: string): Promise<string> => {
  const error = await verify(token).catch((failure: unknown) => failure);
  expect(error).toBeInstanceOf(TokenRejectedError);
  return (error as Error).message;
};

test('a valid token gives the principal', async () => {
  await expect(verify(await mint({ roles: ['admin'] }))).resolves.toEqual({
    tenantId: 'acme',
    userId: 'ada',
    roles: ['admin'],
    tokenId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    expiresAt: expect.any(Number),
  });
});

test('tenant and roles come from the configured claims; roles may be a space-separated string', async () => {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const verifyNamespaced = await createTokenVerifier({
    issuer,
    audience,
    algorithms: ['ES256', 'RS256'],
    key: { jwk: { ...(await exportJWK(publicKey)), alg: 'RS256' } },
    tenantClaim: 'https://t-developer.dev/tenant',
    rolesClaim: 'https://t-developer.dev/roles',
  });
  const token = await new SignJWT({
    'https://t-developer.dev/tenant': 'globex',
    'https://t-developer.dev/roles': 'viewer approver',
    tenant: 'acme',
    roles: ['tenant-admin'],
  })
    .setProtectedHeader({ alg: 'RS256' })
    .setSubject('client-7')
    .setIssuer(issuer)
    .setAudience(audience)
    .setExpirationTime('5m')
    .sign(privateKey);
  await expect(verifyNamespaced(token)).resolves.toMatchObject({
    tenantId: 'globex',
    userId: 'client-7',
    roles: ['viewer', 'approver'],
  });
  const plainClaims = await new SignJWT({ tenant: 'acme', roles: ['tenant-admin'] })
    .setProtectedHeader({ alg: 'RS256' })
    .setSubject('client-7')
    .setIssuer(issuer)
    .setAudience(audience)
    .setExpirationTime('5m')
    .sign(privateKey);
  await expect(verifyNamespaced(plainClaims)).rejects.toThrow(
    'token has no valid "https://t-developer.dev/tenant" claim',
  );
});

test('expired, wrong audience and wrong issuer are refused with a reason', async () => {
  expect(await rejection(await mint({ ttlSeconds: -60 }))).toBe('token has expired');
  expect(await rejection(await mint({ audience: 'other-api' }))).toBe(
    'token claim "aud" is not valid (check_failed)',
  );
  expect(await rejection(await mint({ issuer: 'https://evil.test' }))).toBe(
    'token claim "iss" is not valid (check_failed)',
  );
});

test('a token signed by another key is refused', async () => {
  const other = await generateKeyPair('ES256', { extractable: true });
  const token = await mint({ privateJwk: await exportJWK(other.privateKey) });
  expect(await rejection(token)).toBe('token signature is not valid');
});

test('alg "none" and other algorithms are refused', async () => {
  const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(
    JSON.stringify({
      sub: 'ada',
      tenant: 'acme',
      iss: issuer,
      aud: audience,
      exp: Math.floor(Date.now() / 1000) + 600,
    }),
  ).toString('base64url');
  expect(await rejection(`${header}.${payload}.`)).toMatch(/algorithm is not allowed|malformed/);
  const hs256 = await new SignJWT({ tenant: 'acme' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('ada')
    .setIssuer(issuer)
    .setAudience(audience)
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('x'.repeat(32)));
  expect(await rejection(hs256)).toBe('token algorithm is not allowed');
});

test('a token without a valid tenant or subject is refused', async () => {
  expect(await rejection(await mint({ tenantId: '../etc' }))).toBe(
    'token has no valid "tenant" claim',
  );
  const noSubject = await new SignJWT({ tenant: 'acme' })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setExpirationTime('5m')
    .sign(await (await import('jose')).importJWK(privateJwk, 'ES256'));
  expect(await rejection(noSubject)).toBe('token claim "sub" is not valid (missing)');
});

test('garbage is refused as malformed', async () => {
  expect(await rejection('not-a-jwt')).toBe('token is malformed');
});

describe('verified-token cache', () => {
  let publicJwk: JWK;
  beforeAll(() => {
    // The public half of `privateJwk`.
    const { d: _d, ...publicPart } = privateJwk;
    publicJwk = publicPart;
  });

  test('a repeated token gives the same principal, and callers cannot change what is kept', async () => {
    const cached = await createTokenVerifier({
      issuer,
      audience,
      algorithms: ['ES256'],
      key: { jwk: publicJwk },
    });
    const token = await mint({ roles: ['viewer'] });
    const first = await cached(token);
    first.roles.push('admin');
    first.tenantId = 'globex';
    await expect(cached(token)).resolves.toMatchObject({ tenantId: 'acme', roles: ['viewer'] });
  });

  test('a kept token is refused once it expires (clock tolerance 0)', async () => {
    const cached = await createTokenVerifier({
      issuer,
      audience,
      algorithms: ['ES256'],
      key: { jwk: publicJwk },
      clockToleranceSeconds: 0,
    });
    const token = await mint({ ttlSeconds: 1 });
    const { expiresAt } = await cached(token);
    await new Promise((resolve) => setTimeout(resolve, (expiresAt ?? 0) * 1000 - Date.now() + 50));
    await expect(cached(token)).rejects.toThrow('token has expired');
  });

  test('a kept token is verified again after maxAgeMs; maxEntries 0 keeps nothing', async () => {
    let now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const cached = await createTokenVerifier({
        issuer,
        audience,
        algorithms: ['ES256'],
        key: { jwk: publicJwk },
        verifiedCache: { maxEntries: 10, maxAgeMs: 1_000 },
      });
      const token = await mint();
      await cached(token);
      // A forged copy with the same claims but another signature is not the kept token.
      const [head, body] = token.split('.');
      await expect(cached(`${head}.${body}.${'A'.repeat(86)}`)).rejects.toThrow(TokenRejectedError);
      now += 1_001;
      await expect(cached(token)).resolves.toMatchObject({ tenantId: 'acme' });
      const uncached = await createTokenVerifier({
        issuer,
        audience,
        algorithms: ['ES256'],
        key: { jwk: publicJwk },
        verifiedCache: { maxEntries: 0, maxAgeMs: 60_000 },
      });
      await expect(uncached(token)).resolves.toMatchObject({ tenantId: 'acme' });
    } finally {
      clock.mockRestore();
    }
  });
});
