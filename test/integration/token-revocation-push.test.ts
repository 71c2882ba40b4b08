/**
 * Pushed revocations on a real, private Redis: two API processes' deny lists (two
 * `TokenRevocations` on their own connections). With the subscription up, a check costs no
 * Redis call and a revocation made by the other process is refused once its notice arrives;
 * when the subscription drops, checks ask Redis again, and a notice lost with the connection
 * is found by the full read after it resubscribes. Redis counts the EXISTS calls (INFO
 * commandstats), so "no Redis call" is Redis's own word.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { REVOCATIONS_CHANNEL, TokenRevocations } from '../../runtime/auth/token-revocations';
import { startTestRedis, type TestRedis } from '../support/redis-server';

let server: TestRedis;
let admin: Redis;
const connections: Redis[] = [];
const lists: TokenRevocations[] = [];

beforeAll(async () => {
  server = await startTestRedis();
  admin = new Redis(server.url);
});

afterEach(() => {
  for (const list of lists.splice(0)) list.stop();
  for (const connection of connections.splice(0)) connection.disconnect();
});

afterAll(async () => {
  admin.disconnect();
  await server.close();
});

/** A deny list as an API process keeps it, on its own connections (reconnecting after `reconnectMs`). */
function apiProcessList(push: boolean, reconnectMs = 20): TokenRevocations {
  const redis = new Redis(server.url, { retryStrategy: () => reconnectMs });
  redis.on('error', () => undefined);
  connections.push(redis);
  // A Redis call slower than the timeout counts as Redis away (the copy decides); a loaded CI
  // machine must not turn these counting tests into outage tests.
  const list = new TokenRevocations({ redis, push, syncIntervalMs: 60_000, timeoutMs: 10_000 });
  lists.push(list);
  list.start();
  return list;
}

async function until(what: string, predicate: () => boolean | Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting until ${what}`);
    await sleep(1);
  }
  return Date.now() - started;
}

/** EXISTS calls Redis has served so far (the per-request check). */
async function existsCalls(): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_exists:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

test('with the subscription up, checks cost no Redis call and another process’s revocation arrives', async () => {
  const first = apiProcessList(true);
  const second = apiProcessList(true);
  await until('both decide locally', () => first.decidesLocally && second.decidesLocally);

  const before = await existsCalls();
  for (let index = 0; index < 200; index += 1) {
    expect(await second.isRevoked('acme', `jti-${index}`)).toBe(false);
  }
  await first.revoke('acme', 'jti-7', inAnHour());
  // The revoking process refuses at once; the other once the notice arrived.
  expect(await first.isRevoked('acme', 'jti-7')).toBe(true);
  const arrivedMs = await until('the notice arrives', () => second.isRevoked('acme', 'jti-7'));
  expect(arrivedMs).toBeLessThan(5_000);
  // Another tenant's token with the same id is not denied.
  expect(await second.isRevoked('globex', 'jti-7')).toBe(false);
  expect(await existsCalls()).toBe(before);
});

test('without push every check asks Redis', async () => {
  const list = apiProcessList(false);
  await sleep(100);
  expect(list.decidesLocally).toBe(false);
  const before = await existsCalls();
  for (let index = 0; index < 5; index += 1) await list.isRevoked('acme', `jti-${index}`);
  expect(await existsCalls()).toBe(before + 5);
});

test('a notice lost with the connection is found by the full read after resubscribing', async () => {
  const first = apiProcessList(true);
  // Reconnects after 1 s: long enough to see what it does while the subscription is down.
  const second = apiProcessList(true, 1_000);
  await until('both decide locally', () => first.decidesLocally && second.decidesLocally);

  // Drop every subscriber connection and, in the same transaction, revoke a token and publish
  // its notice: no subscriber is there to receive it.
  const entryKey = 'tdev:revoked-token:acme:jti-lost';
  const expiresAt = inAnHour();
  await admin
    .multi()
    .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    .set(entryKey, String(expiresAt), 'EX', 3600)
    .publish(REVOCATIONS_CHANNEL, JSON.stringify({ key: entryKey, expiresAtSeconds: expiresAt }))
    .exec();
  await until('the drop is noticed', () => !second.decidesLocally);
  // Until it has read the whole list again it asks Redis, so the token is refused meanwhile.
  const before = await existsCalls();
  expect(await second.isRevoked('acme', 'jti-lost')).toBe(true);
  expect(await existsCalls()).toBe(before + 1);
  expect(second.decidesLocally).toBe(false);
  await until('it decides locally again', () => second.decidesLocally);
  const after = await existsCalls();
  expect(await second.isRevoked('acme', 'jti-lost')).toBe(true);
  expect(await existsCalls()).toBe(after);
});

test('notices that are not revocations change nothing', async () => {
  const list = apiProcessList(true);
  await until('it decides locally', () => list.decidesLocally);
  for (const junk of [
    'not json',
    '42',
    JSON.stringify({ key: 'other-prefix:acme:jti-x', expiresAtSeconds: inAnHour() }),
    JSON.stringify({ key: 'tdev:revoked-token:acme:jti-x', expiresAtSeconds: 'soon' }),
  ]) {
    await admin.publish(REVOCATIONS_CHANNEL, junk);
  }
  // A valid notice sent after the junk: once it is in, the junk was read (and ignored).
  await admin.publish(
    REVOCATIONS_CHANNEL,
    JSON.stringify({ key: 'tdev:revoked-token:acme:jti-y', expiresAtSeconds: inAnHour() }),
  );
  await until('the valid notice arrives', () => list.isRevoked('acme', 'jti-y'));
  expect(await list.isRevoked('acme', 'jti-x')).toBe(false);
  expect(list.decidesLocally).toBe(true);
});
