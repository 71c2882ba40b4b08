/**
 * Model facts of attachments through the provider layer: the real Bedrock provider talks to
 * the local Converse fake, so images travel as Converse `image` blocks and errors come back
 * as Bedrock exceptions. Fixtures are generated here: a PNG with text drawn by sharp, and a
 * speech WAV synthesised by espeak-ng. The last block runs the activities on a real media
 * worker, scheduled by a tiny workflow.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import sharp from 'sharp';
import {
  MODEL_IMAGE_MAX_BYTES,
  captionImage,
  fitImageForModel,
  processAttachment,
  summarizeTranscript,
  translateText,
  type ProcessAttachmentOptions,
} from '../../media/attachments';
import { createBedrockProvider } from '../../models/bedrock';
import type { ModelProvider } from '../../models/model-provider';
import { createOfflineProvider } from '../../models/offline-provider';
import { LocalBlobStore } from '../../media/blob';
import type { AttachmentInsight, AttachmentRef } from '../../core/media/attachments';
import { ERROR_TYPES } from '../../core/errors';
import { createMediaWorker } from '../../workers/media-worker';
import {
  startFakeBedrock,
  type ConverseCall,
  type ConverseScript,
  type FakeBedrock,
} from '../fakes/bedrock-converse-server';
import { testDataConverter, testEnv } from '../support/test-env';

const run = promisify(execFile);

const SPEECH =
  'the team met on monday to review the budget for the next quarter and agreed to hire ' +
  'two new engineers for the platform group while the marketing plan will be finished by ' +
  'the end of next month and then presented to the board';

const CAPTION_JSON = JSON.stringify({
  caption: 'A red circle beside the words HELLO MODEL on a white background.',
  objects: [
    { name: 'text', confidence: 0.8 },
    { name: 'red circle', confidence: 0.95 },
  ],
});

let directory: string;
let blobs: LocalBlobStore;
let fake: FakeBedrock;
let model: ModelProvider;
let png: Buffer;
let warnings: { message: string; attributes: Record<string, unknown> }[];

const answer =
  (...texts: string[]): ConverseScript =>
  (call) => ({ kind: 'text', text: texts[Math.min(callIndex(call), texts.length - 1)] ?? '' });

/** 0-based position of `call` among the calls since the test began. */
let firstCall = 0;
const callIndex = (call: ConverseCall): number => fake.calls.indexOf(call) - firstCall;
const testCalls = (): ConverseCall[] => fake.calls.slice(firstCall);

async function store(bytes: Buffer, contentType: string): Promise<AttachmentRef> {
  return blobs.put(bytes, { contentType });
}

function process(
  attachment: AttachmentRef,
  options: Partial<ProcessAttachmentOptions> = {},
): Promise<AttachmentInsight> {
  return processAttachment(attachment, {
    blobs,
    model,
    temporaryDirectory: directory,
    onWarning: (message, attributes) => warnings.push({ message, attributes }),
    ...options,
  });
}

/** Black text and a red circle on white, drawn with DejaVu Sans (present on Debian). */
function pictureSvg(): Buffer {
  return Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="360">' +
      '<rect width="100%" height="100%" fill="white"/>' +
      '<text x="40" y="110" font-family="DejaVu Sans" font-size="72" fill="black">HELLO MODEL</text>' +
      '<circle cx="900" cy="280" r="50" fill="red"/>' +
      '</svg>',
  );
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'tdev-media-model-'));
  blobs = new LocalBlobStore({ root: path.join(directory, 'blobs') });
  png = await sharp(pictureSvg()).png().toBuffer();
  await run('espeak-ng', [
    '-v',
    'en-us',
    '-s',
    '140',
    '-w',
    path.join(directory, 'speech.wav'),
    SPEECH,
  ]);
  fake = await startFakeBedrock();
  model = createBedrockProvider({
    region: 'us-east-1',
    modelId: 'us.anthropic.claude-sonnet-4-20250514-v1:0',
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIDTESTTEST', secretAccessKey: 'test-secret' },
  });
}, 60_000);

beforeEach(() => {
  firstCall = fake.calls.length;
  warnings = [];
});

afterAll(async () => {
  await fake?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('captionImage', () => {
  test('parses caption and objects; the image reaches Converse as a PNG image block', async () => {
    fake.setScript(answer(CAPTION_JSON));
    const caption = await captionImage(model, { format: 'png', bytes: png });
    expect(caption).toEqual({
      caption: 'A red circle beside the words HELLO MODEL on a white background.',
      objects: [
        { name: 'red circle', confidence: 0.95 },
        { name: 'text', confidence: 0.8 },
      ],
    });
    const [call] = testCalls();
    expect(testCalls()).toHaveLength(1);
    const content = call?.body.messages?.[0]?.content ?? [];
    const image = content.find((block) => block.image)?.image;
    expect(image?.format).toBe('png');
    expect(Buffer.from(image?.source?.bytes ?? '', 'base64').equals(png)).toBe(true);
    expect(content.some((block) => block.text?.includes('JSON'))).toBe(true);
    expect(call?.body.system?.[0]?.text).toContain('"objects"');
    expect(call?.body.inferenceConfig?.temperature).toBe(0);
  });

  test('a malformed answer is repaired once with the validation errors', async () => {
    const fenced = '```json\n' + CAPTION_JSON + '\n```';
    fake.setScript(answer('{"caption": "", "objects": [{"name": "circle"}]}', fenced));
    const caption = await captionImage(model, { format: 'png', bytes: png });
    expect(caption?.caption).toMatch(/^A red circle/);
    const calls = testCalls();
    expect(calls).toHaveLength(2);
    const repair = calls[1]?.body.messages ?? [];
    expect(repair.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(repair[1]?.content[0]?.text).toContain('"objects"');
    const errors = repair[2]?.content[0]?.text ?? '';
    expect(errors).toContain('not valid');
    expect(errors).toContain('caption');
    expect(errors).toContain('objects.0.confidence');
    // The image is sent again with the conversation.
    expect(repair[0]?.content.some((block) => block.image?.format === 'png')).toBe(true);
  });

  test('malformed twice: no caption and a warning, no third call', async () => {
    fake.setScript(answer('I see a red circle.', 'Still prose, sorry.'));
    const onWarning = jest.fn();
    await expect(
      captionImage(model, { format: 'png', bytes: png }, undefined, onWarning),
    ).resolves.toBeUndefined();
    expect(testCalls()).toHaveLength(2);
    expect(onWarning).toHaveBeenCalledWith(
      expect.stringContaining('invalid after one repair'),
      expect.objectContaining({ errors: [expect.stringContaining('not JSON')] }),
    );
  });

  test('images over 8000 px or 3.75 MB are resized before they are sent', async () => {
    const wide = await sharp({
      create: { width: 9_000, height: 200, channels: 3, background: '#36c' },
    })
      .png()
      .toBuffer();
    const fittedWide = await fitImageForModel(wide);
    expect(fittedWide.format).toBe('png');
    expect(await sharp(fittedWide.bytes).metadata()).toMatchObject({ width: 8_000 });

    const noise = await sharp(Buffer.from(Array.from({ length: 1_400 * 1_400 * 3 }, noiseByte)), {
      raw: { width: 1_400, height: 1_400, channels: 3 },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noise.byteLength).toBeGreaterThan(MODEL_IMAGE_MAX_BYTES);
    const fittedNoise = await fitImageForModel(noise);
    expect(fittedNoise.bytes.byteLength).toBeLessThanOrEqual(MODEL_IMAGE_MAX_BYTES);

    fake.setScript(answer(CAPTION_JSON));
    await captionImage(model, { format: 'png', bytes: wide });
    const sent = testCalls()[0]?.body.messages?.[0]?.content.find((block) => block.image)?.image;
    const sentBytes = Buffer.from(sent?.source?.bytes ?? '', 'base64');
    expect(sent?.format).toBe('png');
    expect(await sharp(sentBytes).metadata()).toMatchObject({ width: 8_000 });
  });
});

/** Deterministic pseudo-random bytes (an LCG), so the noise image repeats. */
function noiseByte(_: unknown, index: number): number {
  return (Math.imul(index + 1, 1_103_515_245) + 12_345) >>> 24;
}

describe('summarizeTranscript and translateText', () => {
  test('summarises in at most three sentences; short transcripts are not sent', async () => {
    fake.setScript(
      answer('The team reviewed the budget.  They agreed to hire. A plan follows. Extra sentence.'),
    );
    const summary = await summarizeTranscript(model, SPEECH);
    expect(summary).toBe('The team reviewed the budget. They agreed to hire. A plan follows.');
    const [call] = testCalls();
    expect(call?.body.messages?.[0]?.content[0]?.text).toBe(`Transcript:\n${SPEECH}`);
    expect(call?.body.system?.[0]?.text).toContain('at most three sentences');

    await expect(summarizeTranscript(model, 'hello there general')).resolves.toBeUndefined();
    expect(testCalls()).toHaveLength(1);
  });

  test('translates keeping formatting; rejects bad input before any call', async () => {
    const korean = '# 회의 메모\n\n- 예산 검토\n- 엔지니어 두 명 채용';
    fake.setScript(answer(`\n${korean}\n`));
    const source = '# Meeting notes\n\n- Review the budget\n- Hire two engineers';
    await expect(translateText(model, source, 'Korean')).resolves.toBe(korean);
    const [call] = testCalls();
    expect(call?.body.system?.[0]?.text).toContain('into Korean');
    expect(call?.body.system?.[0]?.text).toContain('Keep the formatting');
    expect(call?.body.messages?.[0]?.content[0]?.text).toBe(`<text>\n${source}\n</text>`);

    const tooLong = translateText(model, 'x'.repeat(20_001), 'Korean');
    await expect(tooLong).rejects.toBeInstanceOf(ApplicationFailure);
    await expect(tooLong).rejects.toMatchObject({
      type: ERROR_TYPES.invalidInput,
      nonRetryable: true,
    });
    await expect(translateText(model, 'hello', '  ')).rejects.toMatchObject({
      type: ERROR_TYPES.invalidInput,
    });
    await expect(translateText(createOfflineProvider(), 'hello', 'ko')).rejects.toMatchObject({
      type: ERROR_TYPES.providerUnavailable,
      nonRetryable: true,
    });
    await expect(translateText(model, '  \n', 'ko')).resolves.toBe('');
    expect(testCalls()).toHaveLength(1);
  });
});

describe('processAttachment with a model', () => {
  test('image: caption and objects become facts; the summary mentions the caption', async () => {
    fake.setScript(
      answer(
        JSON.stringify({
          caption: 'A red circle and the words HELLO MODEL; contact ada@example.com.',
          objects: [
            { name: 'circle', confidence: 0.9 },
            { name: 'text', confidence: 0.85 },
            { name: 'circle', confidence: 0.5 },
          ],
        }),
      ),
    );
    const insight = await process(await store(png, 'image/png'));
    expect(insight.kind).toBe('image');
    expect(insight.text).toContain('HELLO MODEL');
    expect(insight.facts).toMatchObject({ format: 'png', width: 1000, height: 360 });
    expect(insight.facts.caption).toBe('A red circle and the words HELLO MODEL; contact [EMAIL].');
    expect(insight.facts.objects).toBe('circle, text');
    expect(insight.summary).toMatch(/^PNG 1000×360, \d+ words? of text.* — A red circle/);
    const image = testCalls()[0]?.body.messages?.[0]?.content.find((block) => block.image)?.image;
    expect(image?.format).toBe('png');
    expect(warnings).toEqual([]);
  });

  test('image: a caption malformed twice leaves the insight without it', async () => {
    fake.setScript(answer('not json', '{"caption": 42}'));
    const insight = await process(await store(png, 'image/png'));
    expect(insight.text).toContain('HELLO MODEL');
    expect(insight.facts.caption).toBeUndefined();
    expect(insight.facts.objects).toBeUndefined();
    expect(insight.summary).not.toContain('—');
    expect(testCalls()).toHaveLength(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('invalid after one repair');
  });

  test('image: a model error (503) is logged and the insight is still produced', async () => {
    fake.setScript(() => ({ kind: 'error', status: 503, name: 'ServiceUnavailableException' }));
    const insight = await process(await store(png, 'image/png'));
    expect(insight.kind).toBe('image');
    expect(insight.text).toContain('HELLO MODEL');
    expect(insight.facts.caption).toBeUndefined();
    expect(testCalls()).toHaveLength(1);
    expect(warnings).toEqual([
      {
        message: expect.stringContaining('Model caption left out') as unknown,
        attributes: expect.objectContaining({ stage: 'caption', timedOut: false }) as unknown,
      },
    ]);
  });

  test('image: a model that does not answer in time is left out', async () => {
    fake.setScript(() => ({ kind: 'hang' }));
    const insight = await process(await store(png, 'image/png'), {
      limits: { modelTimeoutMs: 500 },
    });
    expect(insight.facts.caption).toBeUndefined();
    expect(warnings[0]?.attributes).toMatchObject({ timedOut: true });
  });

  test('cancellation during the model call propagates', async () => {
    fake.setScript(() => ({ kind: 'hang' }));
    const controller = new AbortController();
    const pending = process(await store(png, 'image/png'), { signal: controller.signal });
    const deadline = Date.now() + 30_000;
    while (testCalls().length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(testCalls()).toHaveLength(1);
    controller.abort(new Error('activity cancelled'));
    await expect(pending).rejects.toThrow('activity cancelled');
    expect(warnings).toEqual([]);
  });

  test('the offline provider is not asked', async () => {
    const insight = await process(await store(png, 'image/png'), {
      model: createOfflineProvider(),
    });
    expect(insight.facts.caption).toBeUndefined();
    expect(testCalls()).toHaveLength(0);
  });

  test('audio: espeak-ng speech gets a transcript summary', async () => {
    fake.setScript(answer('The team agreed on the budget and two hires.'));
    const speech = await readFile(path.join(directory, 'speech.wav'));
    const insight = await process(await store(speech, 'audio/wav'));
    expect(insight.kind).toBe('audio');
    expect(insight.facts.words).toBeGreaterThanOrEqual(20);
    expect(insight.facts.transcriptSummary).toBe('The team agreed on the budget and two hires.');
    const [call] = testCalls();
    expect(testCalls()).toHaveLength(1);
    expect(call?.body.messages?.[0]?.content[0]?.text).toBe(`Transcript:\n${insight.text}`);
  });

  test('audio: a failing model leaves out the summary, not the transcript', async () => {
    fake.setScript(() => ({ kind: 'error', status: 500, name: 'InternalServerException' }));
    const speech = await readFile(path.join(directory, 'speech.wav'));
    const insight = await process(await store(speech, 'audio/wav'));
    expect(insight.text).toBeTruthy();
    expect(insight.facts.transcriptSummary).toBeUndefined();
    expect(warnings[0]?.message).toContain('Model summarize left out');
  });
});

/** The only workflow here: runs one media activity on the given queue. */
const WORKFLOW_SOURCE = `
import { proxyActivities } from '@temporalio/workflow';
export async function mediaActivityWorkflow(taskQueue, name, input) {
  const activities = proxyActivities({
    taskQueue,
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { maximumAttempts: 1 },
  });
  return activities[name](input);
}
`;

describe('the media activities on a media worker', () => {
  const taskQueue = `test-media-model-${randomBytes(4).toString('hex')}`;
  const modelQueue = `${taskQueue}-model`;
  const plainQueue = `${taskQueue}-plain`;
  let connection: Connection;
  let client: Client;
  let native: NativeConnection;
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];

  beforeAll(async () => {
    const env = testEnv();
    await writeFile(path.join(directory, 'workflow.js'), WORKFLOW_SOURCE);
    connection = await Connection.connect({ address: env.temporalAddress });
    client = new Client({
      connection,
      namespace: env.namespace,
      dataConverter: testDataConverter(),
    });
    native = await NativeConnection.connect({ address: env.temporalAddress });
    const repositoryModules = path.resolve(__dirname, '..', '..', 'node_modules');
    const common = {
      connection: native,
      namespace: env.namespace,
      blobs,
      dataConverter: testDataConverter(),
    };
    workers = [
      await Worker.create({
        ...common,
        taskQueue,
        workflowsPath: path.join(directory, 'workflow.js'),
        bundlerOptions: {
          webpackConfigHook: (config) => ({
            ...config,
            resolve: { ...config.resolve, modules: [repositoryModules, 'node_modules'] },
          }),
        },
      }),
      await createMediaWorker({ ...common, taskQueue: modelQueue, model }),
      await createMediaWorker({ ...common, taskQueue: plainQueue }),
    ];
    running = workers.map((worker) => worker.run());
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) worker.shutdown();
    await Promise.allSettled(running);
    await native?.close();
    await connection?.close();
  });

  const execute = <T>(queue: string, name: string, input: unknown): Promise<T> =>
    client.workflow.execute<(queue: string, name: string, input: unknown) => Promise<T>>(
      'mediaActivityWorkflow',
      {
        taskQueue,
        workflowId: `media-model-${randomBytes(6).toString('hex')}`,
        args: [queue, name, input],
      },
    );

  /** The `ApplicationFailure` the activity failed with. */
  async function failureOf(queue: string, name: string, input: unknown) {
    const error: unknown = await execute(queue, name, input).then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const activity = (error as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    return (activity as ActivityFailure).cause as ApplicationFailure;
  }

  test('processAttachment: the worker passes its model through', async () => {
    fake.setScript(answer(CAPTION_JSON));
    const attachment = await store(png, 'image/png');
    const insight = await execute<AttachmentInsight>(modelQueue, 'processAttachment', {
      attachment,
      sessionId: 'session-media-model',
    });
    expect(insight.facts).toMatchObject({ caption: expect.stringMatching(/^A red circle/) });
    expect(insight.facts.objects).toBe('red circle, text');
  });

  test('translateText: translated by the model; bad input and no model fail for good', async () => {
    fake.setScript(answer('안녕하세요'));
    await expect(
      execute(modelQueue, 'translateText', { text: 'Hello', targetLanguage: 'Korean' }),
    ).resolves.toEqual({ text: '안녕하세요', model: model.model });
    const tooLong = await failureOf(modelQueue, 'translateText', {
      text: 'x'.repeat(20_001),
      targetLanguage: 'Korean',
    });
    expect(tooLong).toMatchObject({ type: ERROR_TYPES.invalidInput, nonRetryable: true });
    const noModel = await failureOf(plainQueue, 'translateText', {
      text: 'Hello',
      targetLanguage: 'Korean',
    });
    expect(noModel).toMatchObject({ type: ERROR_TYPES.providerUnavailable, nonRetryable: true });
    expect(testCalls()).toHaveLength(1);
  });
});
