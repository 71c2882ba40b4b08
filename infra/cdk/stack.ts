/**
 * The platform's AWS resources as a CDK stack: the DynamoDB tables (from the same definitions
 * as the local stack, on-demand, point-in-time recovery, TTL, optional replica regions), a KMS
 * key for payload encryption (rotation on), the blob bucket (SSE-KMS, lifecycle, no public
 * access, TLS only) and two least-privilege roles for the pods: the workers' (Bedrock on the
 * configured models only) and the API's (no Bedrock).
 */
import {
  Duration,
  RemovalPolicy,
  Stack,
  Tags,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  aws_kms as kms,
  aws_s3 as s3,
  type StackProps,
  CfnOutput,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { TableNames } from '../dynamodb/tables';
import type { TableDefinition, TableKey } from './table-definitions';

export interface EksOidcTrust {
  /** ARN of the cluster's IAM OIDC provider. */
  providerArn: string;
  /** The issuer without `https://`, e.g. `oidc.eks.us-east-1.amazonaws.com/id/ABC`. */
  issuer: string;
  /** Kubernetes namespace of the release. */
  namespace: string;
}

export interface TDeveloperStackProps extends StackProps {
  /** From `platformTableDefinitions(prefix)` (infra/dynamodb/tables.ts). */
  tables: TableDefinition[];
  /**
   * Bedrock resources the workers may invoke: foundation-model and inference-profile ARNs
   * (see `bedrockModelArns`). Nothing else is allowed.
   */
  bedrockModelArns: string[];
  /** Regions that hold DynamoDB replicas (global tables) besides the stack's own. */
  replicaRegions?: string[];
  /** Blob keys live under this prefix (BLOB_S3_PREFIX); the roles reach nothing else. */
  blobPrefix?: string;
  /** Days after which an attachment blob expires; default 90. */
  blobRetentionDays?: number;
  /** Release name; the service accounts are `<release>-t-developer-api` / `-worker`. */
  releaseName?: string;
  /** IRSA trust; without it the roles trust EKS Pod Identity (pods.eks.amazonaws.com). */
  eksOidc?: EksOidcTrust;
}

/** The Bedrock model ids a worker calls, as IAM resources. */
export function bedrockModelArns(options: {
  partition?: string;
  account: string;
  /** The stack's region (where the inference profile lives). */
  region: string;
  /** BEDROCK_MODEL_ID: a foundation model id, or a cross-region profile such as `us.x.y`. */
  modelIds: string[];
  /** Regions a cross-region profile routes to (the foundation model is invoked there). */
  routedRegions: string[];
}): string[] {
  const partition = options.partition ?? 'aws';
  const arns = new Set<string>();
  for (const modelId of options.modelIds) {
    const profile = /^(us|eu|apac|us-gov|global)\.(.+)$/.exec(modelId);
    if (profile) {
      arns.add(
        `arn:${partition}:bedrock:${options.region}:${options.account}:inference-profile/${modelId}`,
      );
      const regions = new Set([options.region, ...options.routedRegions]);
      for (const region of regions) {
        arns.add(`arn:${partition}:bedrock:${region}::foundation-model/${profile[2]}`);
      }
    } else {
      arns.add(`arn:${partition}:bedrock:${options.region}::foundation-model/${modelId}`);
    }
  }
  return [...arns];
}

const attributeType = (key: TableKey): dynamodb.AttributeType =>
  ({
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  })[key.type];

/** Item actions the stores use (runtime/stores): no deletes of items, no table management. */
const ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];

export class TDeveloperStack extends Stack {
  readonly tables: Partial<Record<keyof TableNames, dynamodb.TableV2>> = {};
  readonly payloadKey: kms.Key;
  readonly blobBucket: s3.Bucket;
  readonly workerRole: iam.Role;
  readonly apiRole: iam.Role;

  constructor(scope: Construct, id: string, props: TDeveloperStackProps) {
    super(scope, id, props);
    if (props.bedrockModelArns.length === 0) {
      throw new Error('bedrockModelArns: name the models the workers may invoke');
    }
    Tags.of(this).add('app', 't-developer');

    // Payload encryption (Temporal payloads, data keys via GenerateDataKey) and the bucket.
    this.payloadKey = new kms.Key(this, 'PayloadKey', {
      alias: 'alias/t-developer-payload',
      description: 'T-Developer payload encryption (Temporal payloads, blobs)',
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const table of props.tables) {
      if (table.billingMode !== 'PAY_PER_REQUEST') {
        throw new Error(
          `${table.tableName}: expected on-demand billing in infra/dynamodb/tables.ts`,
        );
      }
      this.tables[table.id] = new dynamodb.TableV2(this, `Table-${table.id}`, {
        tableName: table.tableName,
        partitionKey: { name: table.partitionKey.name, type: attributeType(table.partitionKey) },
        ...(table.sortKey
          ? { sortKey: { name: table.sortKey.name, type: attributeType(table.sortKey) } }
          : {}),
        billing: dynamodb.Billing.onDemand(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        ...(table.ttlAttribute ? { timeToLiveAttribute: table.ttlAttribute } : {}),
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        ...(props.replicaRegions?.length
          ? { replicas: props.replicaRegions.map((region) => ({ region })) }
          : {}),
      });
    }

    const blobPrefix = normalisePrefix(props.blobPrefix ?? '');
    this.blobBucket = new s3.Bucket(this, 'BlobBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.payloadKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-blobs',
          ...(blobPrefix ? { prefix: blobPrefix } : {}),
          expiration: Duration.days(props.blobRetentionDays ?? 90),
          noncurrentVersionExpiration: Duration.days(7),
        },
      ],
    });

    const release = props.releaseName ?? 'tdev';
    this.workerRole = this.podRole('WorkerRole', `${release}-t-developer-worker`, props.eksOidc);
    this.apiRole = this.podRole('ApiRole', `${release}-t-developer-api`, props.eksOidc);

    // Workers: the model calls. Converse and ConverseStream are authorised by InvokeModel and
    // InvokeModelWithResponseStream (Bedrock has no separate Converse IAM action).
    this.workerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeConfiguredModels',
        actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        resources: props.bedrockModelArns,
      }),
    );

    for (const role of [this.workerRole, this.apiRole]) {
      const tables = Object.values(this.tables);
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PlatformTables',
          actions: ITEM_ACTIONS,
          resources: tables.map((table) => table.tableArn),
        }),
      );
      const readAll = [this.tables.agents, this.tables.sessions].filter(
        (table): table is dynamodb.TableV2 => table !== undefined,
      );
      // The agent registry lists every spec (Scan); /health times DescribeTable on sessions.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'RegistryScanAndHealth',
          actions: ['dynamodb:Scan', 'dynamodb:DescribeTable'],
          resources: readAll.map((table) => table.tableArn),
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'PayloadKey',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.payloadKey.keyArn],
        }),
      );
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'Blobs',
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [this.blobBucket.arnForObjects(`${blobPrefix}*`)],
        }),
      );
      // HeadObject on a missing key answers 404 (not 403) only with ListBucket.
      role.addToPolicy(
        new iam.PolicyStatement({
          sid: 'BlobListForNotFound',
          actions: ['s3:ListBucket'],
          resources: [this.blobBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${blobPrefix}*`] } },
        }),
      );
    }

    new CfnOutput(this, 'WorkerRoleArn', { value: this.workerRole.roleArn });
    new CfnOutput(this, 'ApiRoleArn', { value: this.apiRole.roleArn });
    new CfnOutput(this, 'BlobBucketName', { value: this.blobBucket.bucketName });
    new CfnOutput(this, 'PayloadKeyArn', { value: this.payloadKey.keyArn });
  }

  private podRole(id: string, serviceAccount: string, oidc: EksOidcTrust | undefined): iam.Role {
    if (oidc) {
      return new iam.Role(this, id, {
        assumedBy: new iam.WebIdentityPrincipal(oidc.providerArn, {
          StringEquals: {
            [`${oidc.issuer}:sub`]: `system:serviceaccount:${oidc.namespace}:${serviceAccount}`,
            [`${oidc.issuer}:aud`]: 'sts.amazonaws.com',
          },
        }),
        description: `T-Developer ${serviceAccount} (IRSA)`,
      });
    }
    const role = new iam.Role(this, id, {
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com'),
      description: `T-Developer ${serviceAccount} (EKS Pod Identity)`,
    });
    role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.ServicePrincipal('pods.eks.amazonaws.com')],
      }),
    );
    return role;
  }
}

function normalisePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}
