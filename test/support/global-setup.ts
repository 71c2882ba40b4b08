/**
 * Starts the real servers the integration tests share: a Temporal dev server (with Web UI,
 * SQLite file) and the DynamoDB-compatible store, on free ports; bundles the workflow code
 * once. Endpoints reach the test files through environment variables.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_NAMESPACE } from '../../core/names';
import { startDynamoLocal } from '../../infra/stack/dynamodb-local';
import { ensureKmsKey, startLocalKms } from '../../infra/stack/local-kms';
import { freePort, type ServiceProcess } from '../../infra/stack/processes';
import { startTemporalDevServer } from '../../infra/stack/temporal-dev-server';
import { writeWorkflowBundles } from '../../workers/bundle-workflows';

declare global {
  var __TDEV_TEST_SERVERS__: ServiceProcess[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-test-'));
  const [temporalPort, uiPort, dynamoPort] = [await freePort(), await freePort(), await freePort()];
  const kmsPort = await freePort();
  const [temporal, dynamo, kms] = await Promise.all([
    startTemporalDevServer({
      port: temporalPort,
      uiPort,
      namespace: DEFAULT_NAMESPACE,
      dbFile: path.join(dir, 'temporal.db'),
      logDir: dir,
      // One partition per task queue, so priority order is exact in the priority tests
      // (with several partitions it is approximate across them).
      dynamicConfig: {
        'matching.numTaskqueueReadPartitions': 1,
        'matching.numTaskqueueWritePartitions': 1,
      },
    }),
    startDynamoLocal({ port: dynamoPort, logDir: dir }),
    // Payload encryption keys (envelope encryption through the real KMS client).
    startLocalKms({ port: kmsPort, dataDir: path.join(dir, 'kms'), logDir: dir }),
  ]);
  const kmsEndpoint = `http://127.0.0.1:${kmsPort}`;
  const kmsKeyId = await ensureKmsKey(kmsEndpoint);
  // Both bundles, as `npm run build` writes them: a worker with tracing on loads the traced one.
  const bundlePath = await writeWorkflowBundles(path.join(dir, 'workflow-bundle.js'));
  globalThis.__TDEV_TEST_SERVERS__ = [temporal, dynamo, kms];
  Object.assign(process.env, {
    TDEV_TEST_DIR: dir,
    TDEV_TEST_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TDEV_TEST_TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}`,
    TDEV_TEST_DYNAMODB_ENDPOINT: `http://127.0.0.1:${dynamoPort}`,
    TDEV_TEST_WORKFLOW_BUNDLE: bundlePath,
    TDEV_TEST_KMS_ENDPOINT: kmsEndpoint,
    TDEV_TEST_KMS_KEY_ID: kmsKeyId,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
}
