/**
 * The local DynamoDB-compatible server (dynalite), run as its own process by the stack and the
 * tests: `tsx infra/dynamodb/serve.ts <port> [data-dir]`. Without a data dir it keeps tables in
 * memory.
 */
import dynalite from 'dynalite';

const port = Number(process.argv[2] ?? 4567);
const dataDir = process.argv[3];
const server = dynalite({
  createTableMs: 0,
  deleteTableMs: 0,
  updateTableMs: 0,
  ...(dataDir ? { path: dataDir } : {}),
});
server.listen(port, '127.0.0.1', () => {
  console.log(
    `dynalite listening on 127.0.0.1:${port}${dataDir ? ` (data in ${dataDir})` : ' (in memory)'}`,
  );
});
const stop = (): void => {
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
