/**
 * Sessions with attachments on the real Temporal server: a 20 MB screen recording (real
 * ffmpeg video with espeak-ng speech) and a screenshot with drawn text are read on the media
 * task queue by the real tools; only references and small insights enter history; what the
 * attachments say reaches the agents' prompts. A corrupt attachment is reported and the
 * session still completes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { NativeConnection, type Worker } from '@temporalio/worker';
import sharp from 'sharp';
import { LocalBlobStore } from '../../media/blob';
import type { AttachmentRef } from '../../core/media/attachments';
import { statusQuery, type SessionResult } from '../../core/session';
import { createMediaWorker, mediaTaskQueue } from '../../workers/media-worker';
import { startFakeBedrock, type FakeBedrock } from '../fakes/bedrock-converse-server';
import { createHarness, testDataConverter, type Harness } from '../support/test-env';

const run = promisify(execFile);
const SPOKEN = 'please add oauth login to the billing service';

let harness: Harness;
let bedrock: FakeBedrock;
let blobs: LocalBlobStore;
let fixtures: string;
const workers: { worker: Worker; running: Promise<void> }[] = [];
let native: NativeConnection;

async function store(file: string, contentType: string, name: string): Promise<AttachmentRef> {
  const ref = await blobs.put(readFileSync(file), { contentType });
  return { ...ref, name };
}

beforeAll(async () => {
  harness = await createHarness('attachments');
  bedrock = await startFakeBedrock(() => ({ kind: 'text' }));
  fixtures = path.join(harness.env.dir, `attachments-${Date.now()}`);
  mkdirSync(fixtures, { recursive: true });
  blobs = new LocalBlobStore({ root: path.join(fixtures, 'blobs') });
  native = await NativeConnection.connect({ address: harness.env.temporalAddress });
  const sessionWorker = await harness.createWorker(bedrock);
  const mediaWorker = await createMediaWorker({
    connection: native,
    namespace: harness.env.namespace,
    taskQueue: mediaTaskQueue(harness.taskQueue),
    blobs,
    dataConverter: testDataConverter(),
  });
  for (const worker of [sessionWorker, mediaWorker]) {
    workers.push({ worker, running: worker.run() });
  }
}, 120_000);

afterAll(async () => {
  for (const { worker } of workers) worker.shutdown();
  await Promise.all(workers.map(({ running }) => running));
  await native.close();
  await bedrock.close();
  await harness.close();
});

test('a session with a 20 MB screen recording and a screenshot completes; history stays small and the agents see what the files say', async () => {
  const speech = path.join(fixtures, 'speech.wav');
  await run('espeak-ng', ['-v', 'en-us', '-s', '130', '-w', speech, SPOKEN]);
  const video = path.join(fixtures, 'recording.mp4');
  // Noise keeps the encoder from compressing the picture away: ~20 MB in 11 s.
  await run('ffmpeg', [
    ...['-nostdin', '-v', 'error', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25,noise=alls=60:allf=t'],
    ...['-i', speech],
    ...['-t', '11', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '16M'],
    ...['-maxrate', '16M', '-bufsize', '16M', '-c:a', 'aac', video],
  ]);
  expect(statSync(video).size).toBeGreaterThan(20 * 1000 * 1000);
  const screenshot = path.join(fixtures, 'screenshot.png');
  await sharp({
    create: { width: 900, height: 160, channels: 3, background: '#ffffff' },
  })
    .composite([
      {
        input: Buffer.from(
          '<svg width="900" height="160"><text x="20" y="95" font-size="48" font-family="DejaVu Sans">Billing login failed</text></svg>',
        ),
      },
    ])
    .png()
    .toFile(screenshot);

  const attachments = [
    await store(video, 'video/mp4', 'recording.mp4'),
    await store(screenshot, 'image/png', 'screenshot.png'),
  ];
  const handle = await harness.startSession({
    text: 'Fix the login bug shown in the attachments',
    attachments,
  });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');

  const status = await handle.query(statusQuery);
  const [recording, image] = status.attachments?.items ?? [];
  expect(recording).toMatchObject({ kind: 'video', name: 'recording.mp4' });
  expect(recording?.error).toBeUndefined();
  expect(Number(recording?.facts.keyFrames)).toBeGreaterThan(0);
  expect(image).toMatchObject({ kind: 'image', name: 'screenshot.png' });

  // The agents' prompts carry what the files say: the OCR'd text and the spoken words.
  const prompt = JSON.stringify(
    bedrock.calls.find((call) => call.sessionId === handle.workflowId)?.body.messages,
  ).toLowerCase();
  expect(prompt).toContain('attachments:');
  expect(prompt).toContain('billing');
  expect(prompt).toMatch(/login/);

  // Media never travelled through history: the whole history is a tiny fraction of 20 MB.
  const history = await handle.fetchHistory();
  const bytes = Buffer.byteLength(JSON.stringify(history));
  expect(bytes).toBeLessThan(200 * 1024);
  const activities = (history.events ?? []).flatMap((event) => {
    const scheduled = event.activityTaskScheduledEventAttributes;
    return scheduled ? [[scheduled.activityType?.name, scheduled.taskQueue?.name]] : [];
  });
  expect(activities.filter(([type]) => type === 'processAttachment')).toEqual([
    ['processAttachment', mediaTaskQueue(harness.taskQueue)],
    ['processAttachment', mediaTaskQueue(harness.taskQueue)],
  ]);
}, 180_000);

test('a corrupt attachment is reported with its error and the session still completes', async () => {
  // An MP4 signature followed by garbage: detected as video, undecodable.
  const bytes = Buffer.concat([
    Buffer.from([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]),
    Buffer.alloc(4096, 7),
  ]);
  const ref = { ...(await blobs.put(bytes, { contentType: 'video/mp4' })), name: 'broken.mp4' };
  const handle = await harness.startSession({ text: 'Look at this recording', attachments: [ref] });
  const result = (await handle.result()) as SessionResult;
  expect(result.phase).toBe('completed');
  const [item] = (await handle.query(statusQuery)).attachments?.items ?? [];
  expect(item).toMatchObject({ name: 'broken.mp4', confidence: 0 });
  expect(item?.error?.code).toMatch(/corrupt|unsupported-type/);
}, 60_000);
