import { stopPid } from '../../infra/stack/processes';

export default async function globalTeardown(): Promise<void> {
  await Promise.all(
    (globalThis.__TDEV_TEST_SERVERS__ ?? []).map((server) => stopPid(server.pid, 5000)),
  );
}
