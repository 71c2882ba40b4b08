/**
 * Attachment intake through the API: uploads and URL fetches become blob references typed by
 * their bytes, refusals are problems naming their code and store nothing, content checks at
 * intake (image bombs, corrupt images and media, over-long audio, invalid UTF-8) refuse with a
 * 4xx and never touch blobs accepted before, and a session started with attachments carries
 * the references into the workflow's input. Media fixtures are made here: sharp and a
 * hand-built PNG header for images, ffmpeg `lavfi` sources for audio and video.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { defaultPayloadConverter } from '@temporalio/common';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { JWK } from 'jose';
import sharp from 'sharp';
import { LocalBlobStore } from '../../media/blob';
import { allowAnyAddressForTests } from '../../media/fetch';
import { ProblemError, problemResponse } from '../../api/problem';
import { attachmentRoutes, type AttachmentRoutesOptions } from '../../api/routes/attachments';
import { buildApi } from '../../api/server';
import type { AttachmentRef } from '../../core/media/attachments';
import type { SessionInput } from '../../core/session';
import { devKeyFiles, ensureDevKeys, readJwk } from '../../runtime/auth/dev-keys';
import { mintToken } from '../../runtime/auth/tokens';
import { loadApiConfig } from '../../runtime/config';
import { createLogger } from '../../runtime/logger';
import {
  createHarness,
  decodeTestPayload,
  type Harness,
  testPayloadEnv,
  testPayloadProtection,
} from '../support/test-env';
import { PNG_SIGNATURE, pngBomb } from '../support/image-fixtures';

const MAX_BYTES = 512 * 1024;
const JSON_LIMIT = 16 * 1024;
/** Lowered limits the test API is configured with. */
const MAX_MEDIA_SECONDS = 2;
const MAX_IMAGE_PIXELS = 1_000_000;

let harness: Harness;
let api: Awaited<ReturnType<typeof buildApi>>;
let privateJwk: JWK;
let blobDir: string;
let blobs: LocalBlobStore;
let media: http.Server;
let mediaUrl: string;
let png: Buffer;
let fixtureDir: string;
/** 1 s and 5 s sine WAVs, a 1 s H.264 MP4, and the MP4's `ftyp` box followed by noise. */
let shortWav: Buffer;
let longWav: Buffer;
let goodMp4: Buffer;
let brokenMp4: Buffer;

const logger = createLogger({ name: 'attachments-api-test', level: 'silent' });

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const run = promisify(execFile);

async function ffmpegFixture(name: string, ...args: string[]): Promise<Buffer> {
  const output = path.join(fixtureDir, name);
  await run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args, output]);
  return readFile(output);
}

/** The sha-256 of every blob in the test store. */
function storedHashes(): string[] {
  const root = path.join(blobDir, 'sha256');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((entry) => path.basename(entry))
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .sort();
}

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

/** Serves fixed bytes by path: `/shot.png`, `/archive.zip`, `/bomb.png`. */
function startMediaServer(): Promise<http.Server> {
  const routes: Record<string, { type: string; bytes: Buffer }> = {
    '/shot.png': { type: 'image/png', bytes: png },
    '/archive.zip': { type: 'image/png', bytes: zipBytes },
    '/bomb.png': { type: 'image/png', bytes: pngBomb() },
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
  // The API encrypts blobs at rest with the test payload keys: read them with the same keys.
  blobs = new LocalBlobStore({ root: blobDir, keys: testPayloadProtection().keys! });
  api = await buildApi(
    loadApiConfig({
      ...testPayloadEnv(),
      TEMPORAL_ADDRESS: harness.env.temporalAddress,
      TEMPORAL_TASK_QUEUE: harness.taskQueue,
      TEMPORAL_UI_URL: harness.env.temporalUiUrl,
      DYNAMODB_ENDPOINT: harness.env.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: harness.tablePrefix,
      AUTH_PUBLIC_KEY_FILE: devKeyFiles(keyDir).publicKeyFile,
      API_BODY_LIMIT_BYTES: String(JSON_LIMIT),
      ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
      ATTACHMENT_FETCH_TIMEOUT_MS: '5000',
      ATTACHMENT_MAX_MEDIA_SECONDS: String(MAX_MEDIA_SECONDS),
      ATTACHMENT_MAX_IMAGE_PIXELS: String(MAX_IMAGE_PIXELS),
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
  fixtureDir = mkdtempSync(path.join(harness.env.dir, 'fixtures-'));
  const sine = (seconds: number) => [
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}:sample_rate=8000`,
  ];
  shortWav = await ffmpegFixture('short.wav', ...sine(1));
  longWav = await ffmpegFixture('long.wav', ...sine(5));
  goodMp4 = await ffmpegFixture(
    'good.mp4',
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=64x48:r=5:d=1',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
  );
  brokenMp4 = Buffer.concat([goodMp4.subarray(0, goodMp4.readUInt32BE(0)), noise(8192)]);
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
    const local = (overrides: Partial<AttachmentRoutesOptions> = {}) => {
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
          ...overrides,
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

    test('an image bomb (30000×30000 PNG header) → 422 pixel-limit, nothing stored', async () => {
      const reply = await fetchLocal({ url: `${mediaUrl}/bomb.png` });
      expectRefusal(reply, 422, 'pixel-limit');
      expect(await blobs.has({ sha256: sha256Of(pngBomb()) })).toBe(false);
    });

    test('a content check over its deadline → 504 timeout, nothing stored', async () => {
      const bytes = await ffmpegFixture(
        'deadline.wav',
        '-f',
        'lavfi',
        '-i',
        'sine=frequency=660:duration=1:sample_rate=8000',
      );
      const reply = await parse(
        await local({ checkTimeoutMs: 1 }).request('/attachments', {
          method: 'POST',
          body: bytes,
        }),
      );
      expectRefusal(reply, 504, 'timeout');
      expect(await blobs.has({ sha256: sha256Of(bytes) })).toBe(false);
    });
  });
});

describe('POST /v1/attachments content checks', () => {
  test('a PNG header claiming 30000×30000 (image bomb) → 422 pixel-limit, nothing stored', async () => {
    const bomb = pngBomb();
    expect(bomb.byteLength).toBeLessThan(2_000);
    const reply = await upload(bomb, { contentType: 'image/png' });
    expectRefusal(reply, 422, 'pixel-limit');
    expect(reply.body.detail).toContain('30000×30000');
    expect(await blobs.has({ sha256: sha256Of(bomb) })).toBe(false);
  });

  test('an image over ATTACHMENT_MAX_IMAGE_PIXELS → 422 pixel-limit', async () => {
    const large = await sharp({
      create: { width: 1200, height: 1000, channels: 3, background: { r: 9, g: 9, b: 9 } },
    })
      .png()
      .toBuffer();
    expect(large.byteLength).toBeLessThan(MAX_BYTES);
    expectRefusal(await upload(large), 422, 'pixel-limit');
    expect(await blobs.has({ sha256: sha256Of(large) })).toBe(false);
  });

  test('a PNG signature followed by garbage → 422 corrupt, nothing stored', async () => {
    const corrupt = Buffer.concat([PNG_SIGNATURE, noise(2048)]);
    const reply = await upload(corrupt, { contentType: 'image/png' });
    expectRefusal(reply, 422, 'corrupt');
    expect(await blobs.has({ sha256: sha256Of(corrupt) })).toBe(false);
  });

  test('a PNG cut in the middle of its pixel data → 422 corrupt', async () => {
    const truncated = png.subarray(0, Math.floor(png.byteLength / 2));
    expectRefusal(await upload(truncated), 422, 'corrupt');
    expect(await blobs.has({ sha256: sha256Of(truncated) })).toBe(false);
  });

  test('a short WAV → 201 audio/wav', async () => {
    const reply = await upload(shortWav, { contentType: 'audio/wav', query: '?name=tone.wav' });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      kind: 'audio',
      attachment: { sha256: sha256Of(shortWav), contentType: 'audio/wav', name: 'tone.wav' },
    });
    expect(await blobs.has({ sha256: sha256Of(shortWav) })).toBe(true);
  });

  test('a WAV longer than ATTACHMENT_MAX_MEDIA_SECONDS → 422 duration-limit, nothing stored', async () => {
    const reply = await upload(longWav, { contentType: 'audio/wav' });
    expectRefusal(reply, 422, 'duration-limit');
    expect(await blobs.has({ sha256: sha256Of(longWav) })).toBe(false);
  });

  test('a short MP4 → 201 video/mp4', async () => {
    const reply = await upload(goodMp4, { contentType: 'video/mp4' });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      kind: 'video',
      attachment: { sha256: sha256Of(goodMp4), contentType: 'video/mp4' },
    });
  });

  test('an MP4 signature followed by garbage → 422 corrupt, nothing stored', async () => {
    expect(brokenMp4.toString('latin1', 4, 8)).toBe('ftyp');
    const reply = await upload(brokenMp4, { contentType: 'video/mp4' });
    expectRefusal(reply, 422, 'corrupt');
    expect(await blobs.has({ sha256: sha256Of(brokenMp4) })).toBe(false);
  });

  test('text that turns into invalid UTF-8 after the head → 422 corrupt', async () => {
    // Streamed in chunks, so the head (detected as text) ends long before the invalid bytes.
    const chunks = [
      ...Array.from({ length: 16 }, () => Buffer.from('a'.repeat(16 * 1024))),
      Buffer.from([0xff, 0xfe, 0x41]),
    ];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    const reply = await parse(
      await api.app.request('/v1/attachments', {
        method: 'POST',
        headers: { authorization: `Bearer ${await token()}`, 'content-type': 'text/plain' },
        body,
        duplex: 'half',
      }),
    );
    expectRefusal(reply, 422, 'corrupt');
    expect(await blobs.has({ sha256: sha256Of(Buffer.concat(chunks)) })).toBe(false);
  });

  test('text ending in a cut multi-byte sequence → 201 text', async () => {
    const euro = Buffer.from('€');
    const bytes = Buffer.concat([
      Buffer.from(`prices in ${'€'.repeat(2000)}`),
      euro.subarray(0, 2),
    ]);
    const reply = await upload(bytes);
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ kind: 'text' });
  });

  test('refusals never touch earlier blobs; the store grows only by accepted uploads', async () => {
    const accepted = await upload(png, { contentType: 'image/png' });
    expect(accepted.status).toBe(201);
    const before = storedHashes();
    expect(before).toContain(sha256Of(png));
    const refused: [Buffer, number, string][] = [
      [pngBomb(), 422, 'pixel-limit'],
      [Buffer.concat([PNG_SIGNATURE, noise(1024)]), 422, 'corrupt'],
      [longWav, 422, 'duration-limit'],
      [brokenMp4, 422, 'corrupt'],
      [zipBytes, 415, 'unsupported-type'],
    ];
    for (const [bytes, status, code] of refused) {
      expectRefusal(await upload(bytes), status, code);
    }
    expect(storedHashes()).toEqual(before);
    expect(await blobs.getBytes({ sha256: sha256Of(png) })).toEqual(png);
    const fresh = await ffmpegFixture(
      'fresh.wav',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=880:duration=1:sample_rate=8000',
    );
    expect((await upload(fresh)).status).toBe(201);
    expect(storedHashes()).toEqual([...before, sha256Of(fresh)].sort());
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
      const input = defaultPayloadConverter.fromPayload<SessionInput>(
        await decodeTestPayload(payload),
      );
      expect(input.request.attachments).toEqual([attachment]);
    } finally {
      await handle.terminate('test done');
    }
  });
});
