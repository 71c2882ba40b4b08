/**
 * The deny list without a Redis to ask: a process that never read the list refuses to guess
 * (VerifierUnavailableError, a 503), and a revocation cannot be recorded.
 */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { TokenRevocations, withRevocationCheck } from '../../runtime/auth/token-revocations';
import { VerifierUnavailableError } from '../../runtime/auth/tokens';

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let redis: Redis;
beforeAll(async () => {
  redis = new Redis(`redis://127.0.0.1:${await closedPort()}`, {
    retryStrategy: () => 50,
    maxRetriesPerRequest: 0,
    disconnectTimeout: 10,
  });
  redis.on('error', () => undefined);
});
afterAll(() => redis.disconnect());

test('never read and Redis away: no verdict, the request is refused as unavailable', async () => {
  const revocations = new TokenRevocations({ redis, timeoutMs: 100 });
  await expect(revocations.isRevoked('acme', 'jti-1')).rejects.toBeInstanceOf(
    VerifierUnavailableError,
  );
  await expect(
    revocations.revoke('acme', 'jti-1', Math.floor(Date.now() / 1000) + 60),
  ).rejects.toBeInstanceOf(VerifierUnavailableError);
  const verify = withRevocationCheck(
    () => Promise.resolve({ tenantId: 'acme', userId: 'ada', roles: [], tokenId: 'jti-1' }),
    revocations,
  );
  await expect(verify('token')).rejects.toThrow(
    'the token revocation list cannot be read right now',
  );
});

test('an expired token needs no revocation', async () => {
  const revocations = new TokenRevocations({ redis, timeoutMs: 100 });
  await expect(
    revocations.revoke('acme', 'jti-2', Math.floor(Date.now() / 1000) - 60),
  ).resolves.toBeUndefined();
});
