/**
 * `cdk synth` without the CDK CLI: `npx tsx infra/cdk/app.ts` writes the CloudFormation
 * template to cdk.out/ (or CDK_OUTDIR). Settings come from the environment:
 *   CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION   target account and region (placeholders if unset)
 *   DYNAMODB_TABLE_PREFIX                      table prefix (default `tdev-`, as runtime/config.ts)
 *   BEDROCK_MODEL_ID, MODEL_ROUTED_REGIONS      models the workers may invoke
 *   DYNAMODB_REPLICA_REGIONS                    comma-separated global-table replica regions
 *   BLOB_S3_PREFIX, TDEV_RELEASE                 blob key prefix, Helm release name
 */
import { App } from 'aws-cdk-lib';
import { bedrockModelArns, TDeveloperStack } from './stack';
import { platformTableDefinitions } from './table-definitions';

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export async function synthesize(env: NodeJS.ProcessEnv = process.env) {
  const account = env.CDK_DEFAULT_ACCOUNT ?? '123456789012';
  const region = env.CDK_DEFAULT_REGION ?? 'us-east-1';
  const app = new App(env.CDK_OUTDIR ? { outdir: env.CDK_OUTDIR } : {});
  const stack = new TDeveloperStack(app, 'TDeveloper', {
    env: { account, region },
    tables: await platformTableDefinitions(env.DYNAMODB_TABLE_PREFIX ?? 'tdev-'),
    bedrockModelArns: bedrockModelArns({
      account,
      region,
      modelIds: [env.BEDROCK_MODEL_ID ?? 'us.anthropic.claude-sonnet-4-20250514-v1:0'],
      routedRegions: list(env.MODEL_ROUTED_REGIONS ?? 'us-east-1,us-east-2,us-west-2'),
    }),
    replicaRegions: list(env.DYNAMODB_REPLICA_REGIONS),
    blobPrefix: env.BLOB_S3_PREFIX ?? '',
    ...(env.TDEV_RELEASE ? { releaseName: env.TDEV_RELEASE } : {}),
  });
  return { app, stack, assembly: app.synth() };
}

if (require.main === module) {
  synthesize().then(
    ({ assembly }) => console.log(`synthesized to ${assembly.directory}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
