/**
 * The AWS stack (infra/cdk) synthesised in memory and checked with aws-cdk-lib/assertions:
 * tables from infra/dynamodb/tables.ts with on-demand billing, PITR and TTL; the payload KMS
 * key with rotation; the blob bucket (SSE-KMS, lifecycle, no public access, TLS only); and
 * least-privilege roles. No AWS account is needed.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { tableNames } from '../../infra/dynamodb/tables';
import { bedrockModelArns, TDeveloperStack } from '../../infra/cdk/stack';
import { platformTableDefinitions } from '../../infra/cdk/table-definitions';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const MODEL = 'us.anthropic.claude-sonnet-4-20250514-v1:0';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Effect: string };
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

async function synth(extra: { replicaRegions?: string[]; blobPrefix?: string } = {}) {
  const app = new App();
  const stack = new TDeveloperStack(app, 'TDeveloper', {
    env: { account: ACCOUNT, region: REGION },
    tables: await platformTableDefinitions('tdev-'),
    bedrockModelArns: bedrockModelArns({
      account: ACCOUNT,
      region: REGION,
      modelIds: [MODEL],
      routedRegions: ['us-east-2', 'us-west-2'],
    }),
    ...extra,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The policy statements attached to a role (by its logical id prefix). */
function statementsOf(template: Template, roleIdPrefix: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Resources;
  return Object.values(policies)
    .filter((policy) =>
      (policy.Properties.Roles as { Ref: string }[]).some((ref) =>
        ref.Ref.startsWith(roleIdPrefix),
      ),
    )
    .flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
}

const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );

describe('infra/cdk stack', () => {
  let template: Template;
  beforeAll(async () => {
    ({ template } = await synth());
  });

  it('reads the table definitions from infra/dynamodb/tables.ts', async () => {
    const definitions = await platformTableDefinitions('tdev-');
    expect(definitions.map((table) => table.tableName).sort()).toEqual(
      Object.values(tableNames('tdev-')).sort(),
    );
    const sessions = definitions.find((table) => table.id === 'sessions')!;
    expect(sessions.partitionKey).toEqual({ name: 'tenantId', type: 'S' });
    expect(sessions.sortKey).toEqual({ name: 'sessionId', type: 'S' });
    expect(definitions.find((table) => table.id === 'idempotency')!.ttlAttribute).toBe('expiresAt');
    expect(definitions.find((table) => table.id === 'agents')!.sortKey).toEqual({
      name: 'version',
      type: 'N',
    });
  });

  it('creates every table on-demand with point-in-time recovery, deletion protection and TTL', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 5);
    for (const name of Object.values(tableNames('tdev-'))) {
      template.hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Retain',
        Properties: Match.objectLike({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          Replicas: [
            Match.objectLike({
              Region: REGION,
              DeletionProtectionEnabled: true,
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            }),
          ],
        }),
      });
    }
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'tdev-idempotency',
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'tdev-usage-ledger',
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'entryKey', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: Match.absent(),
    });
  });

  it('adds replica regions (global tables) when asked', async () => {
    const { template: replicated } = await synth({ replicaRegions: ['us-west-2'] });
    replicated.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'tdev-sessions',
      Replicas: Match.arrayWith([
        Match.objectLike({
          Region: 'us-west-2',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]),
    });
  });

  it('has a payload KMS key with rotation on', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ EnableKeyRotation: true, RotationPeriodInDays: 365 }),
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/t-developer-payload' });
  });

  it('keeps blobs in a private, TLS-only, KMS-encrypted bucket with a lifecycle', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }),
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
          Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('lets the workers invoke only the configured Bedrock models', () => {
    const worker = statementsOf(template, 'WorkerRole');
    const bedrock = worker.filter((statement) =>
      actionsOf([statement]).some((action) => action.startsWith('bedrock:')),
    );
    expect(bedrock).toHaveLength(1);
    expect(actionsOf(bedrock).sort()).toEqual([
      'bedrock:InvokeModel',
      'bedrock:InvokeModelWithResponseStream',
    ]);
    expect(bedrock[0]!.Resource).toEqual([
      `arn:aws:bedrock:${REGION}:${ACCOUNT}:inference-profile/${MODEL}`,
      'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0',
      'arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0',
      'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-20250514-v1:0',
    ]);
    // The API never calls a model.
    expect(actionsOf(statementsOf(template, 'ApiRole')).some((a) => a.startsWith('bedrock:'))).toBe(
      false,
    );
  });

  it('grants no wildcard actions or resources, only the platform tables, key and bucket', () => {
    for (const role of ['WorkerRole', 'ApiRole']) {
      const statements = statementsOf(template, role);
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(statement.Effect).toBe('Allow');
        for (const action of actionsOf([statement])) expect(action).not.toContain('*');
        const resources = Array.isArray(statement.Resource)
          ? statement.Resource
          : [statement.Resource];
        for (const resource of resources) expect(JSON.stringify(resource)).not.toBe('"*"');
      }
      const actions = actionsOf(statements);
      expect(actions).toEqual(expect.arrayContaining(['kms:GenerateDataKey', 'kms:Decrypt']));
      expect(actions).not.toEqual(expect.arrayContaining(['kms:Encrypt']));
      expect(actions).not.toContain('dynamodb:DeleteTable');
      expect(actions).not.toContain('dynamodb:CreateTable');
      const kms = statements.find((statement) => statement.Sid === 'PayloadKey')!;
      expect(JSON.stringify(kms.Resource)).toContain('PayloadKey');
      const tables = statements.find((statement) => statement.Sid === 'PlatformTables')!;
      expect((tables.Resource as unknown[]).length).toBe(5);
      expect(JSON.stringify(tables.Resource)).toContain('Tablesessions');
    }
  });

  it('trusts EKS Pod Identity by default', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { Service: 'pods.eks.amazonaws.com' },
          }),
          Match.objectLike({
            Action: 'sts:TagSession',
            Principal: { Service: 'pods.eks.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  it('refuses a stack with no Bedrock models', async () => {
    const app = new App();
    const tables = await platformTableDefinitions('tdev-');
    expect(
      () =>
        new TDeveloperStack(app, 'Empty', {
          env: { account: ACCOUNT, region: REGION },
          tables,
          bedrockModelArns: [],
        }),
    ).toThrow(/bedrockModelArns/);
  });
});
