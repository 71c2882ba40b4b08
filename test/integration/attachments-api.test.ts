/**
 * Attachment intake through the API: uploads and URL fetches become blob references typed by
 * their bytes, refusals are problems naming their code and store nothing, and a session
 * started with attachments carries the references into the workflow's input.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { defaultPayloadConverter } from '@temporalio/common';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { JWK } from 'jose';
import sharp from 'sharp';
import { LocalBlobStore } from '../../activities/multimodal/blob';
import { allowAnyAddressForTests } from '../../activities/multimodal/fetch';
import { ProblemError, problemResponse } from '../../api/problem';
import { attachmentRoutes } from '../../api/routes/attachments';
import { buildApi } from '../../api/server';
import type { AttachmentRef } from '../../core/media/attachments';
import type { SessionInput } from '../../core/session';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import { createHarness, type Harness } from '../support/test-env';

const MAX_BYTES = 512 * 1024;
const JSON_LIMIT = 16 * 1024;

let harness: Harness;
let api: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;
let blobDir: string;
let blobs: LocalBlobStore;
let media: http.Server;
let mediaUrl: string;
let png: Buffer;

const logger = createLogger({ name: 'attachments-api-test', level: 'silent' });

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const zipBytes = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(200, 1)]);
const pdfBytes = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
const gzipBytes = gzipSync(Buffer.from('a'.repeat(1000)));
/** No signature and a NUL byte: not a known type and not text. */
const binaryBytes = Buffer.from(
  Array.from({ length: 4096 }, (_, index) => (index * 7919 + 13) % 256),
);

/** Deterministic bytes that do not compress (xorshift32). */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = 0x9e3779b9;
  for (let index = 0; index < length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

const token = () =>
  mintToken({
    privateJwk,
    algorithm: 'ES256',
    issuer: 'https://auth.t-developer.local',
    audience: 't-developer-api',
    tenantId: 'acme',
    userId: 'ada',
  });

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function parse(response: Response): Promise<Reply> {
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text ? JSON.parse(text) : {}) as Record<string, unknown>,
  };
}

async function upload(
  bytes: Uint8Array,
  options: {
    contentType?: string;
    query?: string;
    token?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<Reply> {
  const bearer = options.token === null ? undefined : (options.token ?? (await token()));
  return parse(
    await api.app.request(`/v1/attachments${options.query ?? ''}`, {
      method: 'POST',
      headers: {
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
        ...options.headers,
      },
      body: bytes,
    }),
  );
}

async function postJson(url: string, body: unknown): Promise<Reply> {
  return parse(
    await api.app.request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

function expectRefusal(reply: Reply, status: number, code: string): void {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toBe('application/problem+json');
  expect(reply.body).toMatchObject({
    status,
    code,
    type: expect.stringMatching(/^https:\/\/t-developer\.dev\/problems\//),
  });
}

/** Serves fixed bytes by path: `/shot.png`, `/archive.zip`. */
function startMediaServer(): Promise<http.Server> {
  const routes: Record<string, { type: string; bytes: Buffer }> = {
    '/shot.png': { type: 'image/png', bytes: png },
    '/archive.zip': { type: 'image/png', bytes: zipBytes },
  };
  const server = http.createServer((request, response) => {
    const route = routes[request.url ?? ''];
    if (!route) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': route.type }).end(route.bytes);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  harness = await createHarness('attachments');
  const keyDir = mkdtempSync(path.join(harness.env.dir, 'keys-'));
  await ensureDevKeys(keyDir);
  privateJwk = readJwk(devKeyFiles(keyDir).privateKeyFile);
  blobDir = mkdtempSync(path.join(harness.env.dir, 'blobs-'));
  blobs = new LocalBlobStore({ root: blobDir });
  api = await buildApi(
    loadApiConfig({
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      API_BODY_LIMIT_BYTES: String(JSON_LIMIT),
      ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
      ATTACHMENT_FETCH_TIMEOUT_MS: '5000',
      BLOB_DIR: blobDir,
      API_PORT: '0',
    }),
    logger,
  );
  // Noise does not compress: well over the JSON body limit, under the attachment limit.
  const width = 160;
  const height = 120;
  const pixels = noise(width * height * 3);
  png = await sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
  media = await startMediaServer();
  mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => media.close(() => resolve()));
  await api.close();
  await harness.close();
});

describe('POST /v1/attachments (upload)', () => {
  test('no token → 401', async () => {
    const reply = await upload(png, { contentType: 'image/png', token: null });
    expect(reply.status).toBe(401);
  });

  test('a PNG larger than the JSON body limit → 201 with the detected type and name', async () => {
    expect(png.byteLength).toBeGreaterThan(JSON_LIMIT);
    const reply = await upload(png, { contentType: 'image/png', query: '?name=shot.png' });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      kind: 'image',
      attachment: {
        sha256: sha256Of(png),
        size: png.byteLength,
        contentType: 'image/png',
        uri: expect.stringMatching(new RegExp(`${sha256Of(png)}$`)),
        name: 'shot.png',
      },
    });
    expect(await blobs.has({ sha256: sha256Of(png) })).toBe(true);
  });

  test('the same bytes twice → the same sha256; the type comes from the bytes', async () => {
    const first = await upload(png, { contentType: 'application/octet-stream' });
    const second = await upload(png);
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    const refOf = (reply: Reply) => reply.body.attachment as AttachmentRef;
    expect(refOf(second).sha256).toBe(refOf(first).sha256);
    expect(refOf(second).contentType).toBe('image/png');
  });

  test('UTF-8 text → 201 kind text', async () => {
    const reply = await upload(Buffer.from('Meeting notes: ship OAuth on Friday.\n'), {
      contentType: 'text/markdown',
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      kind: 'text',
      attachment: { contentType: 'text/plain; charset=utf-8' },
    });
  });

  test('ZIP bytes declared image/png → 415, nothing stored', async () => {
    const reply = await upload(zipBytes, { contentType: 'image/png' });
    expectRefusal(reply, 415, 'unsupported-type');
    expect(await blobs.has({ sha256: sha256Of(zipBytes) })).toBe(false);
  });

  test('PNG bytes declared audio/mpeg → 415 type-mismatch, nothing stored', async () => {
    const bytes = Buffer.concat([png, Buffer.from('different bytes')]);
    const reply = await upload(bytes, { contentType: 'audio/mpeg' });
    expectRefusal(reply, 415, 'type-mismatch');
    expect(await blobs.has({ sha256: sha256Of(bytes) })).toBe(false);
  });

  test.each([
    ['gzip', gzipBytes],
    ['ZIP', zipBytes],
    ['PDF', pdfBytes],
    ['random binary', binaryBytes],
  ])('%s → 415 unsupported-type', async (_name, bytes) => {
    const reply = await upload(bytes, { contentType: 'application/octet-stream' });
    expectRefusal(reply, 415, 'unsupported-type');
    expect(await blobs.has({ sha256: sha256Of(bytes) })).toBe(false);
  });

  test('over the attachment limit (streamed, no Content-Length) → 413, nothing stored', async () => {
    const bytes = Buffer.concat([png, Buffer.alloc(MAX_BYTES)]);
    const reply = await upload(bytes, { contentType: 'image/png' });
    expectRefusal(reply, 413, 'too-large');
    expect(await blobs.has({ sha256: sha256Of(bytes) })).toBe(false);
  });

  test('a Content-Length over the limit → 413 before reading', async () => {
    const reply = await upload(png, { headers: { 'content-length': String(MAX_BYTES + 1) } });
    expectRefusal(reply, 413, 'too-large');
  });

  test('an empty body → 400 empty', async () => {
    expectRefusal(await upload(new Uint8Array(0)), 400, 'empty');
  });

  test('a name over 200 characters → 400', async () => {
    const reply = await upload(png, { query: `?name=${'a'.repeat(201)}` });
    expect(reply.status).toBe(400);
  });
});

describe('POST /v1/attachments over real HTTP', () => {
  test('a streamed upload → 201; over the limit → 413; an archive → 415', async () => {
    const server = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const send = async (bytes: Buffer) =>
      parse(
        await fetch(`${base}/v1/attachments?name=over-http.png`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await token()}`, 'content-type': 'image/png' },
          body: new Blob([bytes]).stream(),
          duplex: 'half',
        }),
      );
    try {
      const stored = await send(png);
      expect(stored.status).toBe(201);
      expect(stored.body).toMatchObject({
        attachment: { sha256: sha256Of(png), name: 'over-http.png' },
      });
      const tooLarge = Buffer.concat([png, noise(MAX_BYTES)]);
      expectRefusal(await send(tooLarge), 413, 'too-large');
      expect(await blobs.has({ sha256: sha256Of(tooLarge) })).toBe(false);
      // Refused from the head while the rest of the body is still on its way.
      const archive = Buffer.concat([zipBytes, noise(MAX_BYTES / 2)]);
      expectRefusal(await send(archive), 415, 'unsupported-type');
    } finally {
      await new Promise((resolve) => {
        server.close(resolve);
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
  });
});

describe('POST /v1/attachments/fetch', () => {
  test('a loopback URL → 400 url-not-allowed', async () => {
    const reply = await postJson('/v1/attachments/fetch', { url: `${mediaUrl}/shot.png` });
    expectRefusal(reply, 400, 'url-not-allowed');
  });

  test('the metadata address 169.254.169.254 → 400 url-not-allowed', async () => {
    const reply = await postJson('/v1/attachments/fetch', {
      url: 'http://169.254.169.254/latest/meta-data/',
    });
    expectRefusal(reply, 400, 'url-not-allowed');
  });

  test('a file: URL → 400 url-not-allowed', async () => {
    const reply = await postJson('/v1/attachments/fetch', { url: 'file:///etc/passwd' });
    expectRefusal(reply, 400, 'url-not-allowed');
  });

  test('the JSON body limit still applies to the fetch route → 413', async () => {
    const reply = await postJson('/v1/attachments/fetch', {
      url: `https://a.example/${'a'.repeat(JSON_LIMIT)}`,
    });
    expect(reply.status).toBe(413);
  });

  describe('with local addresses allowed (the route alone; the API never allows them)', () => {
    const local = () => {
      const app = new Hono();
      app.onError((error, context) =>
        error instanceof ProblemError
          ? problemResponse(context, error.problem)
          : context.text(String(error), 500),
      );
      app.route(
        '/attachments',
        attachmentRoutes({
          blobs,
          maxBytes: MAX_BYTES,
          fetchTimeoutMs: 5000,
          addressPolicy: allowAnyAddressForTests,
        }),
      );
      return app;
    };
    const fetchLocal = async (body: unknown) =>
      parse(
        await local().request('/attachments/fetch', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );

    test('a PNG → 201 stored under its sha256', async () => {
      const reply = await fetchLocal({ url: `${mediaUrl}/shot.png`, name: 'remote.png' });
      expect(reply.status).toBe(201);
      expect(reply.body).toMatchObject({
        kind: 'image',
        attachment: { sha256: sha256Of(png), contentType: 'image/png', name: 'remote.png' },
      });
    });

    test('a ZIP served as image/png → 415, nothing stored', async () => {
      const reply = await fetchLocal({ url: `${mediaUrl}/archive.zip` });
      expectRefusal(reply, 415, 'unsupported-type');
      expect(await blobs.has({ sha256: sha256Of(zipBytes) })).toBe(false);
    });

    test('a 404 → 422 fetch-failed', async () => {
      expectRefusal(await fetchLocal({ url: `${mediaUrl}/missing` }), 422, 'fetch-failed');
    });
  });
});

describe('POST /v1/sessions with attachments', () => {
  test('an unknown sha256 → 422 listing it', async () => {
    const missing = 'ab'.repeat(32);
    const reply = await postJson('/v1/sessions', {
      request: 'Describe the screenshot',
      attachments: [
        { sha256: missing, size: 10, contentType: 'image/png', uri: `file:///x/${missing}` },
      ],
    });
    expectRefusal(reply, 422, 'attachments-not-found');
    expect(reply.body.missing).toEqual([missing]);
  });

  test('a uri that does not name the blob → 400', async () => {
    const sha256 = sha256Of(png);
    const reply = await postJson('/v1/sessions', {
      request: 'Describe the screenshot',
      attachments: [
        { sha256, size: png.byteLength, contentType: 'image/png', uri: 'file:///etc/passwd' },
      ],
    });
    expect(reply.status).toBe(400);
  });

  test('an uploaded attachment → 201, and the workflow input carries the ref', async () => {
    const uploaded = await upload(png, { contentType: 'image/png', query: '?name=shot.png' });
    const attachment = uploaded.body.attachment as AttachmentRef;
    const reply = await postJson('/v1/sessions', {
      request: 'Describe the screenshot',
      attachments: [attachment],
    });
    expect(reply.status).toBe(201);
    const handle = harness.client.workflow.getHandle(String(reply.body.sessionId));
    try {
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      const payload = started?.input?.payloads?.[0];
      if (!payload) throw new Error('the start event has no input');
      const input = defaultPayloadConverter.fromPayload<SessionInput>(payload);
      expect(input.request.attachments).toEqual([attachment]);
    } finally {
      await handle.terminate('test done');
    }
  });
});
