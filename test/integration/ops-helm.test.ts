/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-argument --
   rendered Kubernetes manifests are untyped YAML: the checks below read them as such. */
/**
 * The Helm chart (infra/helm/t-developer) as Helm v4 lints and renders it. The rendered
 * manifests are parsed (the `yaml` package, present in node_modules as a transitive dependency
 * of @hono/zod-openapi and @opentelemetry/sdk-node) and checked: probes and resource limits on
 * every container, a PodDisruptionBudget per Deployment, a KEDA Temporal ScaledObject per
 * worker on the right task queue (core/names.ts), a termination grace longer than the worker's
 * activity shutdown grace, and container environments the real config loaders accept.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TASK_QUEUES, mediaTaskQueue } from '../../core/names';
import { loadApiConfig, loadWorkerConfig } from '../../runtime/config';
import { REPO_ROOT, TOOL_BUILD_TIMEOUT_MS, ensureTool, run } from './ops-tools';

const CHART = path.join(REPO_ROOT, 'infra/helm/t-developer');

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
  };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, any>;
}

let helm: string;

function template(values: Record<string, unknown> = {}): { ok: boolean; out: string; err: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-helm-'));
  const file = path.join(dir, 'values.json');
  writeFileSync(file, JSON.stringify(values));
  const result = run(helm, ['template', 'tdev', CHART, '--namespace', 'tdev', '-f', file]);
  return { ok: result.status === 0, out: result.stdout, err: result.stderr };
}

function render(values: Record<string, unknown> = {}): Manifest[] {
  const result = template(values);
  if (!result.ok) throw new Error(`helm template failed:\n${result.err}`);
  return parseAllDocuments(result.out)
    .map((document) => {
      if (document.errors.length) throw new Error(String(document.errors[0]));
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

const ofKind = (manifests: Manifest[], kind: string) => manifests.filter((m) => m.kind === kind);
const containersOf = (deployment: Manifest): Container[] =>
  deployment.spec.template.spec.containers as Container[];
const envOf = (container: Container) =>
  new Map((container.env ?? []).map((variable) => [variable.name, variable]));

/** The container's environment as the process would see it (secret refs as placeholders). */
function processEnv(container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    env[variable.name] = variable.value ?? `secret:${variable.valueFrom!.secretKeyRef.key}`;
  }
  return env;
}

describe('Helm chart infra/helm/t-developer', () => {
  beforeAll(() => {
    helm = ensureTool('helm');
  }, TOOL_BUILD_TIMEOUT_MS);

  it('passes helm lint --strict', () => {
    const result = run(helm, ['lint', '--strict', CHART]);
    expect(`${result.stdout}${result.stderr}`).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(result.status).toBe(0);
  });

  describe('default values', () => {
    let manifests: Manifest[];
    beforeAll(() => {
      manifests = render();
    });

    it('renders an API, a session worker and a media worker', () => {
      const deployments = ofKind(manifests, 'Deployment');
      expect(deployments.map((d) => d.metadata.name).sort()).toEqual([
        'tdev-t-developer-api',
        'tdev-t-developer-media-worker',
        'tdev-t-developer-session-worker',
      ]);
      for (const deployment of deployments) {
        const [container] = containersOf(deployment);
        const entry = deployment.metadata.name.endsWith('-api')
          ? 'dist/api/main.js'
          : 'dist/workers/main.js';
        expect(container!.command).toEqual(['node', entry]);
      }
    });

    it('gives every container readiness and liveness probes on a named port and resource limits', () => {
      const containers = ofKind(manifests, 'Deployment').flatMap(containersOf);
      expect(containers).toHaveLength(3);
      for (const container of containers) {
        const portNames = (container.ports ?? []).map((port) => port.name);
        for (const probe of [container.readinessProbe, container.livenessProbe]) {
          expect(probe?.httpGet?.path).toBe('/health');
          expect(portNames).toContain(probe!.httpGet!.port);
        }
        expect(container.resources?.limits?.cpu).toBeTruthy();
        expect(container.resources?.limits?.memory).toBeTruthy();
        expect(container.resources?.requests?.cpu).toBeTruthy();
        expect(container.resources?.requests?.memory).toBeTruthy();
      }
      const api = containersOf(
        ofKind(manifests, 'Deployment').find((d) => d.metadata.name.endsWith('-api'))!,
      )[0]!;
      expect(api.readinessProbe!.httpGet!.path).toBe('/health');
      expect(api.livenessProbe!.httpGet!.path).toBe('/health');
    });

    it('has a PodDisruptionBudget selecting the pods of each Deployment', () => {
      const budgets = ofKind(manifests, 'PodDisruptionBudget');
      const deployments = ofKind(manifests, 'Deployment');
      expect(budgets).toHaveLength(deployments.length);
      for (const deployment of deployments) {
        const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
        const matching = budgets.filter((budget) =>
          Object.entries(budget.spec.selector.matchLabels as Record<string, string>).every(
            ([key, value]) => podLabels[key] === value,
          ),
        );
        expect(matching).toHaveLength(1);
        const budget = matching[0]!.spec;
        expect(budget.minAvailable ?? budget.maxUnavailable).toBeGreaterThanOrEqual(1);
      }
    });

    it('scales each worker with a KEDA Temporal ScaledObject on its own task queue', () => {
      const scaled = ofKind(manifests, 'ScaledObject');
      const expected: Record<string, string> = {
        'tdev-t-developer-session-worker': TASK_QUEUES.session,
        'tdev-t-developer-media-worker': mediaTaskQueue(TASK_QUEUES.session),
      };
      expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(
        Object.keys(expected).sort(),
      );
      for (const object of scaled) {
        expect(object.apiVersion).toBe('keda.sh/v1alpha1');
        const [trigger, ...others] = object.spec.triggers as {
          type: string;
          metadata: Record<string, string>;
        }[];
        expect(others).toHaveLength(0);
        expect(trigger!.type).toBe('temporal');
        expect(trigger!.metadata).toMatchObject({
          endpoint: 'temporal-frontend.temporal.svc.cluster.local:7233',
          namespace: 'default',
          taskQueue: expected[object.spec.scaleTargetRef.name as string],
        });
        expect(Number(trigger!.metadata.targetQueueSize)).toBeGreaterThan(0);
        expect(object.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
        expect(object.spec.maxReplicaCount).toBeGreaterThan(object.spec.minReplicaCount);
      }
      // KEDA owns worker replicas: the Deployments leave `replicas` unset.
      for (const name of Object.keys(expected)) {
        const deployment = ofKind(manifests, 'Deployment').find((d) => d.metadata.name === name)!;
        expect(deployment.spec.replicas).toBeUndefined();
      }
    });

    it('waits longer than the activity shutdown grace before killing a worker', () => {
      for (const deployment of ofKind(manifests, 'Deployment')) {
        if (deployment.metadata.name.endsWith('-api')) continue;
        const [container] = containersOf(deployment);
        const graceMs = Number(envOf(container!).get('WORKER_SHUTDOWN_GRACE_MS')?.value);
        expect(graceMs).toBeGreaterThan(0);
        const seconds = deployment.spec.template.spec.terminationGracePeriodSeconds as number;
        expect(seconds * 1000).toBeGreaterThan(graceMs);
      }
    });

    it('sets environments the real config loaders accept, with the media queue only on the media worker', () => {
      for (const deployment of ofKind(manifests, 'Deployment')) {
        const [container] = containersOf(deployment);
        const env = processEnv(container!);
        if (deployment.metadata.name.endsWith('-api')) {
          const config = loadApiConfig(env);
          expect(config.api.API_HOST).toBe('0.0.0.0');
          expect(config.auth.AUTH_PUBLIC_KEY_FILE).toBe('/etc/tdev/secrets/auth-public-key.jwk');
          expect(config.temporal.TEMPORAL_TASK_QUEUE).toBe(TASK_QUEUES.session);
        } else {
          const config = loadWorkerConfig(env);
          expect(config.temporal.TEMPORAL_TASK_QUEUE).toBe(TASK_QUEUES.session);
          expect(config.metrics.WORKER_METRICS_PORT).toBe(container!.ports![0]!.containerPort);
          expect(config.worker.WORKER_MEDIA_ENABLED).toBe(
            deployment.metadata.name.endsWith('-media-worker'),
          );
          expect(config.model.MODEL_PROVIDER).toBe('bedrock');
        }
        // The payload KMS key id comes from the Secret, never from a literal value.
        expect(envOf(container!).get('PAYLOAD_KMS_KEY_ID')?.valueFrom?.secretKeyRef).toEqual({
          name: 't-developer-secrets',
          key: 'payload-kms-key-id',
        });
      }
    });

    it('mounts the Secret read-only and runs as a non-root user with a read-only root filesystem', () => {
      for (const deployment of ofKind(manifests, 'Deployment')) {
        const pod = deployment.spec.template.spec;
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.volumes).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              name: 'secrets',
              secret: expect.objectContaining({ secretName: 't-developer-secrets' }),
            }),
          ]),
        );
        const [container] = pod.containers as (Container & Record<string, any>)[];
        expect(container!.securityContext.readOnlyRootFilesystem).toBe(true);
        expect(container!.volumeMounts).toEqual(
          expect.arrayContaining([
            { name: 'secrets', mountPath: '/etc/tdev/secrets', readOnly: true },
          ]),
        );
      }
      expect(ofKind(manifests, 'Secret')).toHaveLength(0); // an existing Secret is referenced
    });
  });

  it('connects to Temporal Cloud with an API key: pods and KEDA read it from the Secret', () => {
    const manifests = render({
      temporal: {
        address: 'tdev.a1b2c.tmprl.cloud:7233',
        namespace: 'tdev.a1b2c',
        tls: { mode: 'apiKey' },
      },
    });
    const auth = ofKind(manifests, 'TriggerAuthentication');
    expect(auth).toHaveLength(1);
    expect(auth[0]!.spec.secretTargetRef).toEqual([
      { parameter: 'apiKey', name: 't-developer-secrets', key: 'temporal-api-key' },
    ]);
    for (const object of ofKind(manifests, 'ScaledObject')) {
      const trigger = object.spec.triggers[0];
      expect(trigger.authenticationRef).toEqual({ name: auth[0]!.metadata.name });
      expect(trigger.metadata).toMatchObject({
        endpoint: 'tdev.a1b2c.tmprl.cloud:7233',
        namespace: 'tdev.a1b2c',
        enableTLS: 'true',
      });
    }
    for (const deployment of ofKind(manifests, 'Deployment')) {
      const env = envOf(containersOf(deployment)[0]!);
      expect(env.get('TEMPORAL_TLS')?.value).toBe('true');
      expect(env.get('TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef.key).toBe('temporal-api-key');
    }
  });

  it('connects with mTLS from a chart-created Secret: cert, key and CA files', () => {
    const manifests = render({
      temporal: { tls: { mode: 'mtls', serverName: 'temporal.internal' } },
      secrets: {
        existingSecret: '',
        create: true,
        temporalTlsCert: 'CERT',
        temporalTlsKey: 'KEY',
        temporalTlsCa: 'CA',
        payloadKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/abc',
        authPublicKeyJwk: '{}',
      },
    });
    const [secret] = ofKind(manifests, 'Secret');
    expect(Object.keys(secret!.spec ?? {})).toHaveLength(0);
    expect((secret as unknown as { stringData: Record<string, string> }).stringData).toMatchObject({
      'temporal-tls.crt': 'CERT',
      'temporal-tls.key': 'KEY',
      'temporal-ca.crt': 'CA',
    });
    const [auth] = ofKind(manifests, 'TriggerAuthentication');
    expect(
      (auth!.spec.secretTargetRef as { parameter: string }[]).map((ref) => ref.parameter),
    ).toEqual(['cert', 'key', 'ca']);
    for (const deployment of ofKind(manifests, 'Deployment')) {
      const env = envOf(containersOf(deployment)[0]!);
      expect(env.get('TEMPORAL_TLS_CERT_FILE')?.value).toBe('/etc/tdev/secrets/temporal-tls.crt');
      expect(env.get('TEMPORAL_TLS_KEY_FILE')?.value).toBe('/etc/tdev/secrets/temporal-tls.key');
      expect(env.get('TEMPORAL_TLS_CA_FILE')?.value).toBe('/etc/tdev/secrets/temporal-ca.crt');
      expect(env.get('TEMPORAL_TLS_SERVER_NAME')?.value).toBe('temporal.internal');
      expect(deployment.spec.template.spec.volumes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            secret: expect.objectContaining({ secretName: secret!.metadata.name }),
          }),
        ]),
      );
    }
  });

  it('refuses a termination grace that does not outlast the activity shutdown grace', () => {
    const result = template({
      workers: { session: { shutdownGraceMs: 60_000, terminationGracePeriodSeconds: 60 } },
    });
    expect(result.ok).toBe(false);
    expect(result.err).toMatch(
      /terminationGracePeriodSeconds \(60 s\) must exceed shutdownGraceMs/,
    );
  });

  it('refuses an unknown Temporal TLS mode and missing secrets', () => {
    const badMode = template({ temporal: { tls: { mode: 'plaintext' } } });
    expect(badMode.ok).toBe(false);
    expect(badMode.err).toMatch(/temporal.tls.mode must be none, mtls or apiKey/);
    const noSecret = template({ secrets: { existingSecret: '', create: false } });
    expect(noSecret.ok).toBe(false);
    expect(noSecret.err).toMatch(/set secrets.existingSecret/);
  });

  it('runs workers at a fixed size without KEDA when it is turned off', () => {
    const manifests = render({
      workers: { session: { keda: { enabled: false } }, media: { enabled: false } },
    });
    expect(ofKind(manifests, 'ScaledObject')).toHaveLength(0);
    const session = ofKind(manifests, 'Deployment').find((d) =>
      d.metadata.name.endsWith('-session-worker'),
    )!;
    expect(session.spec.replicas).toBe(2);
    expect(
      ofKind(manifests, 'Deployment').some((d) => d.metadata.name.endsWith('-media-worker')),
    ).toBe(false);
  });
});
