/**
 * The S3 blob store against a recording fake client: keys, commands and their parameters,
 * dedupe and not-found handling. No S3 is reachable here; the wire protocol is the SDK's.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { BlobNotFoundError, S3BlobStore } from '../../media/blob';

type Sent = HeadObjectCommand | PutObjectCommand | GetObjectCommand | DeleteObjectCommand;

function fakeClient(respond: (command: Sent) => unknown) {
  const sent: Sent[] = [];
  const client = {
    send: async (command: Sent) => {
      sent.push(command);
      return respond(command);
    },
  } as unknown as Pick<S3Client, 'send'>;
  return { client, sent };
}

function serviceError(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

const bytes = Buffer.from('an attachment');
const sha256 = createHash('sha256').update(bytes).digest('hex');
const key = `blobs/sha256/${sha256.slice(0, 2)}/${sha256}`;

describe('S3BlobStore', () => {
  test('put heads the content-addressed key, then uploads conditionally with a checksum', async () => {
    const { client, sent } = fakeClient((command) => {
      if (command instanceof HeadObjectCommand) throw serviceError('NotFound', 404);
      return {};
    });
    const store = new S3BlobStore({ client, bucket: 'media', prefix: 'blobs' });
    const ref = await store.put(Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]), {
      contentType: 'image/png',
    });
    expect(ref).toEqual({
      sha256,
      size: bytes.byteLength,
      contentType: 'image/png',
      uri: `s3://media/${key}`,
    });
    expect(sent.map((command) => command.constructor.name)).toEqual([
      'HeadObjectCommand',
      'PutObjectCommand',
    ]);
    expect(sent[0]!.input).toEqual({ Bucket: 'media', Key: key });
    expect(sent[1]!.input).toMatchObject({
      Bucket: 'media',
      Key: key,
      ContentType: 'image/png',
      ContentLength: bytes.byteLength,
      ChecksumSHA256: createHash('sha256').update(bytes).digest('base64'),
      IfNoneMatch: '*',
    });
    expect((sent[1]!.input as { Body: Buffer }).Body.equals(bytes)).toBe(true);
  });

  test('with a KMS key, uploads ask S3 for SSE-KMS under it', async () => {
    const { client, sent } = fakeClient((command) => {
      if (command instanceof HeadObjectCommand) throw serviceError('NotFound', 404);
      return {};
    });
    const kmsKeyId = 'arn:aws:kms:us-east-1:111122223333:key/blobs';
    const store = new S3BlobStore({ client, bucket: 'media', prefix: 'blobs', kmsKeyId });
    await store.put(bytes, { contentType: 'image/png' });
    expect(sent[1]!.input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: kmsKeyId,
    });
  });

  test('put of content already stored uploads nothing', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new S3BlobStore({ client, bucket: 'media' });
    const ref = await store.put(bytes, { contentType: 'text/plain' });
    expect(ref.uri).toBe(`s3://media/sha256/${sha256.slice(0, 2)}/${sha256}`);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(HeadObjectCommand);
  });

  test('a concurrent writer winning the conditional upload (412) is not an error', async () => {
    const { client } = fakeClient((command) => {
      if (command instanceof HeadObjectCommand) throw serviceError('NotFound', 404);
      throw serviceError('PreconditionFailed', 412);
    });
    const store = new S3BlobStore({ client, bucket: 'media' });
    await expect(store.put(bytes, { contentType: 'text/plain' })).resolves.toMatchObject({
      sha256,
    });
  });

  test('other upload errors propagate; oversized puts are refused before any request', async () => {
    const { client, sent } = fakeClient((command) => {
      if (command instanceof HeadObjectCommand) throw serviceError('NotFound', 404);
      throw serviceError('SlowDown', 503);
    });
    const store = new S3BlobStore({ client, bucket: 'media', maxPutBytes: 5 });
    await expect(store.put(bytes, { contentType: 'text/plain' })).rejects.toThrow(RangeError);
    expect(sent).toHaveLength(0);
    const roomy = new S3BlobStore({ client, bucket: 'media' });
    await expect(roomy.put(bytes, { contentType: 'text/plain' })).rejects.toThrow('SlowDown');
  });

  test('get streams the body; missing keys give BlobNotFoundError; has and delete', async () => {
    const stored = new Set([key]);
    const { client, sent } = fakeClient((command) => {
      const commandKey = command.input.Key ?? '';
      if (command instanceof DeleteObjectCommand) {
        stored.delete(commandKey);
        return {};
      }
      if (!stored.has(commandKey)) {
        throw serviceError(command instanceof GetObjectCommand ? 'NoSuchKey' : 'NotFound', 404);
      }
      return command instanceof GetObjectCommand ? { Body: Readable.from([bytes]) } : {};
    });
    const store = new S3BlobStore({ client, bucket: 'media', prefix: 'blobs/' });
    expect(await store.getBytes({ sha256 })).toEqual(bytes);
    expect(await store.has({ sha256 })).toBe(true);
    expect(await store.delete({ sha256 })).toBe(true);
    expect(sent.at(-1)!.input).toEqual({ Bucket: 'media', Key: key });
    expect(await store.delete({ sha256 })).toBe(false);
    await expect(store.get({ sha256 })).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  test('keys that are not sha-256 digests never reach S3', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const store = new S3BlobStore({ client, bucket: 'media' });
    await expect(store.has({ sha256: '../secrets' })).rejects.toThrow(TypeError);
    expect(sent).toHaveLength(0);
  });
});
