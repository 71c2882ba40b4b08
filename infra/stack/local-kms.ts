/**
 * local-kms (infra/kms/install.sh): a KMS wire-protocol server for the dev stack and the tests,
 * so payload encryption runs the real `@aws-sdk/client-kms` code path (GenerateDataKey, Decrypt).
 */
import { existsSync } from 'node:fs';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  ListKeysCommand,
} from '@aws-sdk/client-kms';
import { toolPath } from './paths';
import { startProcess, waitFor, type ServiceProcess } from './processes';

export const LOCAL_KMS_REGION = 'us-east-1';
/** The alias of the payload key the stack and the tests create. */
export const PAYLOAD_KEY_ALIAS = 'alias/tdev-payloads';

export interface LocalKmsOptions {
  port: number;
  /** Persist keys here (KMS_DATA_PATH); without it keys live in a temporary folder of the caller. */
  dataDir: string;
  logDir: string;
  detached?: boolean;
  pidDir?: string;
  name?: string;
}

/** A KMS client for local-kms (fixed local credentials; never real AWS ones). */
export function localKmsClient(endpoint: string): KMSClient {
  return new KMSClient({
    region: LOCAL_KMS_REGION,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** Starts local-kms and resolves once it answers ListKeys. */
export async function startLocalKms(options: LocalKmsOptions): Promise<ServiceProcess> {
  const command = toolPath('local-kms');
  if (!existsSync(command)) {
    throw new Error(`${command} is missing: run bash infra/kms/install.sh (or npm run setup)`);
  }
  const server = startProcess({
    name: options.name ?? 'kms',
    command,
    args: [],
    env: {
      PORT: String(options.port),
      KMS_REGION: LOCAL_KMS_REGION,
      KMS_DATA_PATH: options.dataDir,
    },
    logDir: options.logDir,
    ...(options.detached !== undefined ? { detached: options.detached } : {}),
    ...(options.pidDir ? { pidDir: options.pidDir } : {}),
  });
  const endpoint = `http://127.0.0.1:${options.port}`;
  await waitFor(`local-kms at ${endpoint}`, () => localKmsReady(endpoint), {
    timeoutMs: 30_000,
    process: server,
  });
  return server;
}

export async function localKmsReady(endpoint: string): Promise<boolean> {
  const client = localKmsClient(endpoint);
  try {
    await client.send(new ListKeysCommand({}));
    return true;
  } finally {
    client.destroy();
  }
}

/**
 * Returns the ARN of the key behind `alias`, creating key and alias when missing (idempotent,
 * so a restarted stack keeps the key its histories were written with).
 */
export async function ensureKmsKey(endpoint: string, alias = PAYLOAD_KEY_ALIAS): Promise<string> {
  const client = localKmsClient(endpoint);
  try {
    const existing = await client
      .send(new DescribeKeyCommand({ KeyId: alias }))
      .catch((error: { name?: string }) => {
        if (error.name === 'NotFoundException') return undefined;
        throw error;
      });
    if (existing?.KeyMetadata?.Arn) return existing.KeyMetadata.Arn;
    const created = await client.send(
      new CreateKeyCommand({ Description: `T-Developer payloads (${alias})` }),
    );
    const arn = created.KeyMetadata?.Arn;
    if (!arn) throw new Error('local-kms CreateKey returned no key ARN');
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }));
    return arn;
  } finally {
    client.destroy();
  }
}
