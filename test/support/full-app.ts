/** The app with every optional route mounted; nothing it depends on is called while listing routes. */
import { Registry } from 'prom-client';
import { createApp, type ApiDependencies } from '../../api/app';
import { createLogger } from '../../runtime/logger';

export function fullAppDependencies(): ApiDependencies {
  const unused = {} as never;
  return {
    sessions: unused,
    agents: unused,
    health: unused,
    metrics: new Registry(),
    verifyToken: unused,
    sessionIndex: unused,
    logger: createLogger({ name: 'full-app', level: 'silent' }),
    bodyLimitBytes: 1024,
    ssePollIntervalMs: 100,
    stepStreams: { redis: unused },
    usage: { ledger: unused, sessionIndex: unused },
    attachments: { blobs: unused, maxBytes: 1024, fetchTimeoutMs: 1000 },
    attachmentOwners: unused,
    audit: unused,
    apiKeys: { store: unused, maxTtlDays: 365 },
    webhooks: { store: unused, maxPerTenant: 20 },
    revocations: { revocations: unused, verifyToken: unused },
    memories: { memory: unused },
  };
}

export const fullApp = () => createApp(fullAppDependencies());
