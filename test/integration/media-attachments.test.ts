/**
 * The media activity end to end: `processAttachment` runs in a real media worker
 * (workers/media-worker.ts) on the test Temporal server, scheduled by a tiny workflow that
 * only calls it, so heartbeats, cancellation and failure conversion are Temporal's own.
 * Every fixture is generated here with the real tools: text drawn with SVG (sharp), speech
 * synthesised by espeak-ng, a video from ffmpeg's testsrc with the speech muxed in, and
 * bad inputs built byte by byte.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32, gzipSync } from 'node:zlib';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  defaultPayloadConverter,
} from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import sharp from 'sharp';
import { detectMediaKind } from '../../media/attachments';
import { LocalBlobStore } from '../../media/blob';
import {
  MAX_INSIGHT_TEXT_CHARS,
  type AttachmentInsight,
  type AttachmentRef,
} from '../../core/media/attachments';
import { ERROR_TYPES } from '../../core/errors';
import { createMediaWorker, mediaTaskQueue } from '../../workers/media-worker';
import { PNG_SIGNATURE, pngBomb, textImageSvg } from '../support/image-fixtures';
import { decodeTestPayload, testDataConverter, testEnv } from '../support/test-env';

const run = promisify(execFile);
const SENTENCE = 'hello world this is a test';

/** The only workflow here: schedules `processAttachment` once on the given queue. */
const WORKFLOW_SOURCE = `
import { proxyActivities } from '@temporalio/workflow';
export async function processAttachmentWorkflow(taskQueue, input) {
  const { processAttachment } = proxyActivities({
    taskQueue,
    startToCloseTimeout: '3 minutes',
    heartbeatTimeout: '6 seconds',
    retry: { maximumAttempts: 1 },
  });
  return processAttachment(input);
}
`;

/** A one-entry ZIP archive (stored, not compressed) holding `hello.txt`. */
function zipArchive(): Buffer {
  const name = Buffer.from('hello.txt');
  const content = Buffer.from('hello\n');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(10, 4);
  header.writeUInt32LE(crc32(content) >>> 0, 14);
  header.writeUInt32LE(content.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(name.length, 26);
  return Buffer.concat([header, name, content]);
}

const MINIMAL_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n' +
    '2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
);

let directory: string;
let blobs: LocalBlobStore;
let connection: Connection;
let client: Client;
let native: NativeConnection;
let workers: Worker[] = [];
let running: Promise<void>[] = [];
const env = () => testEnv();
const taskQueue = `test-media-attachments-${randomBytes(4).toString('hex')}`;
const strictQueue = `${taskQueue}-strict`;
const fixture = (name: string): string => path.join(directory, name);

/** Polls `probe` every 200 ms until it returns something truthy; fails after `timeoutMs`. */
async function waitFor<T>(probe: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ffmpeg(...args: string[]): Promise<void> {
  await run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args]);
}

async function store(bytes: Buffer, contentType: string, name?: string): Promise<AttachmentRef> {
  const ref = await blobs.put(bytes, { contentType });
  return { ...ref, ...(name ? { name } : {}) };
}

async function processVia(queue: string, attachment: AttachmentRef): Promise<AttachmentInsight> {
  return client.workflow.execute<(queue: string, input: unknown) => Promise<AttachmentInsight>>(
    'processAttachmentWorkflow',
    {
      taskQueue,
      workflowId: `media-${randomBytes(6).toString('hex')}`,
      args: [queue, { attachment, sessionId: 'session-media-test' }],
    },
  );
}

/** The `ApplicationFailure` the activity failed with (through workflow and activity failure). */
async function failureOf(queue: string, attachment: AttachmentRef): Promise<ApplicationFailure> {
  const error: unknown = await processVia(queue, attachment).then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activity = (error as WorkflowFailedError).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  const application = (activity as ActivityFailure).cause;
  expect(application).toBeInstanceOf(ApplicationFailure);
  return application as ApplicationFailure;
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'tdev-media-attachments-'));
  blobs = new LocalBlobStore({ root: fixture('blobs') });
  await run('espeak-ng', ['-v', 'en-us', '-s', '130', '-w', fixture('speech.wav'), SENTENCE]);
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=320x240:r=10:d=4',
    '-i',
    fixture('speech.wav'),
    '-map',
    '0:v',
    '-map',
    '1:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    fixture('talk.mp4'),
  );
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=6:sample_rate=16000',
    fixture('long.wav'),
  );
  await run('espeak-ng', ['-v', 'en-us', '-s', '160', '-w', fixture('short.wav'), 'hello']);
  await writeFile(fixture('workflow.js'), WORKFLOW_SOURCE);
  // A recogniser that never finishes: records its pid, then sleeps.
  await writeFile(
    fixture('slow-pocketsphinx.sh'),
    `#!/bin/sh\necho $$ > '${fixture('slow.pid')}'\nexec sleep 120\n`,
    { mode: 0o755 },
  );

  connection = await Connection.connect({ address: env().temporalAddress });
  client = new Client({
    connection,
    namespace: env().namespace,
    dataConverter: testDataConverter(),
  });
  native = await NativeConnection.connect({ address: env().temporalAddress });
  const repositoryModules = path.resolve(__dirname, '..', '..', 'node_modules');
  const workflowWorker = await Worker.create({
    connection: native,
    namespace: env().namespace,
    taskQueue,
    dataConverter: testDataConverter(),
    workflowsPath: fixture('workflow.js'),
    bundlerOptions: {
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, modules: [repositoryModules, 'node_modules'] },
      }),
    },
  });
  const temporaryDirectory = fixture('work');
  await mkdir(temporaryDirectory);
  const mediaWorker = await createMediaWorker({
    connection: native,
    namespace: env().namespace,
    dataConverter: testDataConverter(),
    taskQueue: mediaTaskQueue(taskQueue),
    blobs,
    temporaryDirectory,
    maxConcurrentActivityTaskExecutions: 2,
  });
  const strictWorker = await createMediaWorker({
    connection: native,
    namespace: env().namespace,
    dataConverter: testDataConverter(),
    taskQueue: strictQueue,
    blobs,
    temporaryDirectory,
    limits: { media: { maxDurationSeconds: 2 } },
    tools: { pocketsphinxPath: fixture('slow-pocketsphinx.sh') },
    maxConcurrentActivityTaskExecutions: 2,
  });
  workers = [workflowWorker, mediaWorker, strictWorker];
  running = workers.map((worker) => worker.run());
}, 240_000);

afterAll(async () => {
  for (const worker of workers) worker.shutdown();
  await Promise.allSettled(running);
  await native?.close();
  await connection?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('detectMediaKind', () => {
  test('names the kind and content type from magic bytes', async () => {
    const png = await sharp({
      create: { width: 4, height: 4, channels: 3, background: '#fff' },
    })
      .png()
      .toBuffer();
    expect(detectMediaKind(png)).toEqual({ kind: 'image', contentType: 'image/png' });
    expect(detectMediaKind(await readFile(fixture('speech.wav')))).toEqual({
      kind: 'audio',
      contentType: 'audio/wav',
    });
    expect(detectMediaKind(await readFile(fixture('talk.mp4')))).toEqual({
      kind: 'video',
      contentType: 'video/mp4',
    });
    expect(detectMediaKind(Buffer.from('ID3\x04\x00rest'))).toMatchObject({ kind: 'audio' });
    expect(detectMediaKind(Buffer.from([0xff, 0xfb, 0x90, 0x64]))).toMatchObject({
      contentType: 'audio/mpeg',
    });
    expect(detectMediaKind(Buffer.from('OggS\x00\x02'))).toMatchObject({ kind: 'audio' });
    expect(detectMediaKind(Buffer.from('fLaC\x00\x00'))).toMatchObject({ kind: 'audio' });
    expect(detectMediaKind(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x42, 0x82, 0x84]))).toMatchObject({
      kind: 'video',
    });
    expect(detectMediaKind(Buffer.from('RIFF\x00\x00\x00\x00AVI LIST'))).toMatchObject({
      contentType: 'video/x-msvideo',
    });
    expect(detectMediaKind(Buffer.from('\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00'))).toEqual({
      kind: 'audio',
      contentType: 'audio/mp4',
    });
    expect(detectMediaKind(Buffer.from('안녕하세요 plain text\n'))).toEqual({
      kind: 'text',
      contentType: 'text/plain; charset=utf-8',
    });
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257, 'latin1');
    tar.write('file.txt', 0, 'latin1');
    expect(() => detectMediaKind(tar)).toThrow(/archives are not accepted/);
    expect(() => detectMediaKind(Buffer.from('Rar!\x1a\x07\x01\x00', 'latin1'))).toThrow(
      /archives are not accepted/,
    );
  });
});

describe('processAttachment on a media worker', () => {
  test('image: OCR text with metadata and confidence', async () => {
    const png = await sharp(textImageSvg(['INVOICE 4821 IS PAID', 'The worker is ready']))
      .png()
      .toBuffer();
    const attachment = await store(png, 'image/png', 'invoice.png');
    const insight = await processVia(mediaTaskQueue(taskQueue), attachment);
    expect(insight).toMatchObject({
      sha256: attachment.sha256,
      name: 'invoice.png',
      kind: 'image',
      language: 'en',
      facts: { format: 'png', width: 1400, height: 260, words: 8, contentType: 'image/png' },
    });
    expect(insight.summary).toBe('PNG 1400×260, 8 words of text (en)');
    expect(insight.text).toContain('INVOICE 4821 IS PAID');
    expect(insight.text).toContain('The worker is ready');
    expect(insight.confidence).toBeGreaterThan(0.8);
    expect(insight.confidence).toBeLessThanOrEqual(1);
  });

  test('audio: espeak-ng speech is transcribed', async () => {
    const attachment = await store(await readFile(fixture('speech.wav')), 'audio/wav');
    const insight = await processVia(mediaTaskQueue(taskQueue), attachment);
    expect(insight.kind).toBe('audio');
    expect(insight.summary).toMatch(/^audio \d+\.\d s, \d+ words? transcribed$/);
    expect(insight.facts.durationS).toBeGreaterThan(1);
    const heard = (insight.text ?? '').split(/\s+/);
    expect(heard.some((word) => SENTENCE.split(' ').includes(word))).toBe(true);
    expect(insight.confidence).toBeGreaterThan(0);
    expect(insight.confidence).toBeLessThanOrEqual(1);
  });

  test('video: key frames stored as blobs and the sound track transcribed', async () => {
    const attachment = await store(await readFile(fixture('talk.mp4')), 'video/mp4', 'talk.mp4');
    const insight = await processVia(mediaTaskQueue(taskQueue), attachment);
    expect(insight).toMatchObject({
      kind: 'video',
      facts: { width: 320, height: 240, hasAudio: true },
    });
    expect(insight.summary).toMatch(
      /^video 4\.\d s 320×240, \d key frames?.*, \d+ words? transcribed$/,
    );
    const frames = Object.entries(insight.derived ?? {});
    expect(frames.length).toBeGreaterThanOrEqual(3);
    expect(frames.length).toBeLessThanOrEqual(5);
    expect(insight.facts.keyFrames).toBe(frames.length);
    for (const [role, ref] of frames) {
      expect(role).toMatch(/^keyFrame:\d$/);
      expect(ref.contentType).toBe('image/jpeg');
      const bytes = await blobs.getBytes(ref);
      expect(detectMediaKind(bytes)).toEqual({ kind: 'image', contentType: 'image/jpeg' });
      expect(await sharp(bytes).metadata()).toMatchObject({ width: 320, height: 240 });
    }
    const heard = (insight.text ?? '').split(/\s+/);
    expect(heard.some((word) => SENTENCE.split(' ').includes(word))).toBe(true);
  });

  test('text: Korean and English PII is masked; the bytes win over a wrong content type', async () => {
    const document =
      '회의 메모: 김민수 연락처 010-1234-5678, 이메일 minsu.kim@example.co.kr 입니다.\n' +
      'Please send the invoice to ada@example.com and call +1 415 555 0100 when it is done.\n';
    const attachment = await store(Buffer.from(document), 'image/png', 'notes.txt');
    const insight = await processVia(mediaTaskQueue(taskQueue), attachment);
    expect(insight.kind).toBe('text');
    expect(insight.confidence).toBe(1);
    expect(insight.text).not.toContain('010-1234-5678');
    expect(insight.text).not.toContain('minsu.kim@example.co.kr');
    expect(insight.text).not.toContain('ada@example.com');
    expect(insight.text).toContain('[EMAIL]');
    expect(insight.text).toContain('[PHONE]');
    expect(insight.text).toContain('회의 메모');
    expect(insight.facts).toMatchObject({
      typeMismatch: true,
      declaredContentType: 'image/png',
      contentType: 'text/plain',
    });
    expect(insight.facts.piiMasked).toBeGreaterThanOrEqual(3);
    expect(insight.summary).toMatch(/PII masked/);
  });

  test('long text is cut to MAX_INSIGHT_TEXT_CHARS and marked truncated', async () => {
    const line = 'Durable workflows keep their history small with claim checks.\n';
    const attachment = await store(Buffer.from(line.repeat(200)), 'text/plain');
    const insight = await processVia(mediaTaskQueue(taskQueue), attachment);
    expect(insight.truncated).toBe(true);
    expect(insight.text).toHaveLength(MAX_INSIGHT_TEXT_CHARS);
    expect(insight.language).toBe('en');
  });

  test.each([
    [
      'zip archive',
      'unsupported-type',
      'application/zip',
      () => zipArchive(),
      /archives are not accepted/,
    ],
    [
      'gzip archive',
      'unsupported-type',
      'application/gzip',
      () => gzipSync('hello world'),
      /archives are not accepted/,
    ],
    [
      'PDF',
      'unsupported-type',
      'application/pdf',
      () => MINIMAL_PDF,
      /PDF documents are not accepted/,
    ],
    [
      'PNG header over garbage (spoofed type)',
      'corrupt',
      'image/png',
      () => Buffer.concat([PNG_SIGNATURE, randomBytes(2048)]),
      /./,
    ],
    ['image bomb', 'pixel-limit', 'image/png', () => pngBomb(), /30000×30000/],
    [
      'random binary',
      'unsupported-type',
      'application/octet-stream',
      () => Buffer.concat([Buffer.from([0x00, 0x01, 0x02]), randomBytes(4096)]),
      /Unrecognised binary/,
    ],
  ] as const)('%s → InvalidInput %s', async (_label, code, contentType, make, message) => {
    const attachment = await store(make(), contentType);
    const failure = await failureOf(mediaTaskQueue(taskQueue), attachment);
    expect(failure.type).toBe(ERROR_TYPES.invalidInput);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ code }]);
    expect(failure.message).toMatch(message);
  });

  test('audio over the (lowered) duration limit → InvalidInput duration-limit', async () => {
    const attachment = await store(await readFile(fixture('long.wav')), 'audio/wav');
    const failure = await failureOf(strictQueue, attachment);
    expect(failure).toMatchObject({
      type: ERROR_TYPES.invalidInput,
      nonRetryable: true,
      details: [{ code: 'duration-limit' }],
    });
  });

  test('cancelling the workflow kills the running tool; heartbeats name the stage', async () => {
    const attachment = await store(await readFile(fixture('short.wav')), 'audio/wav');
    const handle = await client.workflow.start('processAttachmentWorkflow', {
      taskQueue,
      workflowId: `media-cancel-${randomBytes(6).toString('hex')}`,
      args: [strictQueue, { attachment, sessionId: 'session-media-test' }],
    });
    const stage = async (): Promise<unknown> => {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      // Heartbeat details are encrypted like every payload: decode them with the test codec.
      return payload
        ? defaultPayloadConverter.fromPayload<{ stage: string }>(await decodeTestPayload(payload))
            .stage
        : undefined;
    };
    await waitFor(async () => (await stage()) === 'transcribe', 30_000);
    const pid = Number(
      await waitFor(() => readFile(fixture('slow.pid'), 'utf8').catch(() => ''), 10_000),
    );
    expect(isAlive(pid)).toBe(true);
    await handle.cancel();
    const error: unknown = await handle.result().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    await waitFor(async () => !isAlive(pid), 20_000);
  });

  test('every call cleans up its temp directory', async () => {
    // The cancelled call above removes its directory just after the workflow ends.
    await waitFor(async () => (await readdir(fixture('work'))).length === 0, 10_000);
  });
});
