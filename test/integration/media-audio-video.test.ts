/**
 * Audio and video on real Debian ffmpeg 5.1 / ffprobe / pocketsphinx, with every fixture
 * generated here: speech synthesised by espeak-ng, a 4-second video whose picture cuts
 * from red to blue at 2 s (ffmpeg `lavfi` colour sources) over a sine tone, and broken
 * files made from random bytes and a truncated MP4.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  parsePocketsphinxOutput,
  probeMedia,
  transcodeAudio,
  transcribeSpeech,
} from '../../media/audio';
import { detectImageType } from '../../media/image';
import { MediaInputError, toApplicationFailure } from '../../media/media-input-error';
import { extractAudio, extractKeyFrames } from '../../media/video';

const run = promisify(execFile);
const SENTENCE = 'hello world this is a test';
const CUT_AT_SECONDS = 2;

let directory: string;
const fixture = (name: string): string => path.join(directory, name);

async function ffmpeg(...args: string[]): Promise<void> {
  await run('ffmpeg', ['-nostdin', '-hide_banner', '-v', 'error', '-y', ...args]);
}

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'tdev-media-'));
  await run('espeak-ng', ['-v', 'en-us', '-s', '130', '-w', fixture('speech.wav'), SENTENCE]);
  const colour = (name: string): string[] => [
    '-f',
    'lavfi',
    '-i',
    `color=c=${name}:s=160x120:r=10:d=${CUT_AT_SECONDS}`,
  ];
  await ffmpeg(
    ...colour('red'),
    ...colour('blue'),
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${2 * CUT_AT_SECONDS}:sample_rate=22050`,
    '-filter_complex',
    '[0:v][1:v]concat=n=2:v=1:a=0[v]',
    '-map',
    '[v]',
    '-map',
    '2:a',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    fixture('cut.mp4'),
  );
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'testsrc=s=160x120:r=10:d=2',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    fixture('silent.mp4'),
  );
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'color=c=green:s=160x120:r=5:d=3',
    '-i',
    fixture('speech.wav'),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    fixture('speech.mp4'),
  );
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'color=c=white:s=32x32:d=1',
    '-frames:v',
    '1',
    fixture('still.png'),
  );
  const cut = await readFile(fixture('cut.mp4'));
  await writeFile(fixture('truncated.mp4'), cut.subarray(0, Math.floor(cut.length / 3)));
  await writeFile(fixture('random.bin'), randomBytes(8192));
  await writeFile(fixture('notes.txt'), 'just some text, not a video\n');
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (error) {
    return error instanceof MediaInputError ? error.code : `plain: ${String(error)}`;
  }
  return 'resolved';
}

describe('probeMedia', () => {
  test('describes container, duration and streams', async () => {
    const probe = await probeMedia(fixture('cut.mp4'));
    expect(probe.formatNames).toContain('mp4');
    expect(probe.durationSeconds).toBeCloseTo(2 * CUT_AT_SECONDS, 0);
    expect(probe).toMatchObject({ hasAudio: true, hasVideo: true });
    expect(probe.streams).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'video', codec: 'h264', width: 160, height: 120 }),
        expect.objectContaining({ type: 'audio', codec: 'aac', sampleRate: 22050, channels: 1 }),
      ]),
    );
  });

  test.each([
    ['random.bin', 'corrupt'],
    ['notes.txt', 'corrupt'],
    ['truncated.mp4', 'corrupt'],
    ['still.png', 'unsupported-type'],
  ])('%s is refused as %s, and the failure is non-retryable', async (name, code) => {
    const caught = await probeMedia(fixture(name)).catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(MediaInputError);
    expect((caught as MediaInputError).code).toBe(code);
    expect(toApplicationFailure(caught)).toMatchObject({
      nonRetryable: true,
      type: 'InvalidInput',
    });
  });

  test('size, duration and time limits', async () => {
    expect(await codeOf(probeMedia(fixture('cut.mp4'), { limits: { maxBytes: 100 } }))).toBe(
      'too-large',
    );
    expect(
      await codeOf(probeMedia(fixture('cut.mp4'), { limits: { maxDurationSeconds: 1 } })),
    ).toBe('duration-limit');
    expect(await codeOf(probeMedia(fixture('cut.mp4'), { limits: { timeoutMs: 1 } }))).toBe(
      'timeout',
    );
  });

  test('an aborted signal stops the tool with the caller’s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    controller.abort(reason);
    await expect(probeMedia(fixture('cut.mp4'), { signal: controller.signal })).rejects.toBe(
      reason,
    );
  });

  test('a missing binary is a plain (retryable) error', async () => {
    expect(
      await codeOf(probeMedia(fixture('cut.mp4'), { ffprobePath: '/nonexistent/ffprobe' })),
    ).toMatch(/^plain: .*Could not run/);
  });
});

describe('audio', () => {
  test('transcodes to 16 kHz mono WAV', async () => {
    const output = fixture('speech-16k.wav');
    const transcoded = await transcodeAudio(fixture('speech.wav'), output);
    expect(transcoded).toMatchObject({ sampleRate: 16_000, channels: 1 });
    const probe = await probeMedia(output);
    expect(probe.formatNames).toEqual(['wav']);
    expect(probe.streams).toEqual([
      expect.objectContaining({
        type: 'audio',
        codec: 'pcm_s16le',
        sampleRate: 16_000,
        channels: 1,
      }),
    ]);
    expect(transcoded.durationSeconds).toBeGreaterThan(1);
  });

  test('extracts the sound track of a video; a silent video has none', async () => {
    const extracted = await extractAudio(fixture('cut.mp4'), fixture('cut-audio.wav'));
    expect(extracted.durationSeconds).toBeCloseTo(2 * CUT_AT_SECONDS, 0);
    expect(await codeOf(extractAudio(fixture('silent.mp4'), fixture('none.wav')))).toBe(
      'unsupported-type',
    );
    expect(await codeOf(extractAudio(fixture('speech.wav'), fixture('none.wav')))).toBe(
      'unsupported-type',
    );
  });

  test('offline speech-to-text recognises words of the synthesised sentence', async () => {
    const started = Date.now();
    const transcript = await transcribeSpeech(fixture('speech.wav'));
    const elapsedMs = Date.now() - started;
    const expected = new Set(SENTENCE.split(' '));
    const recognised = transcript.words
      .map((word) => word.word)
      .filter((word) => expected.has(word));
    console.info(
      `pocketsphinx heard "${transcript.text}" for "${SENTENCE}" in ${elapsedMs} ms; ` +
        `matching words: ${recognised.join(', ')}`,
    );
    expect(transcript).toMatchObject({
      kind: 'offline-transcription',
      engine: 'pocketsphinx',
      model: 'en-us',
      language: 'en-US',
    });
    expect(new Set(recognised).size).toBeGreaterThanOrEqual(2);
    for (const word of transcript.words) {
      expect(word.endSeconds).toBeGreaterThanOrEqual(word.startSeconds);
      expect(word.confidence).toBeGreaterThanOrEqual(0);
    }
  });

  test('transcribes the sound track of a video directly', async () => {
    const transcript = await transcribeSpeech(fixture('speech.mp4'));
    console.info(`pocketsphinx heard "${transcript.text}" from the MP4 sound track`);
    expect(transcript.durationSeconds).toBeGreaterThan(1);
    const expected = new Set(SENTENCE.split(' '));
    expect(transcript.words.some((word) => expected.has(word.word))).toBe(true);
  });

  test('parses pocketsphinx -time output', () => {
    const words = parsePocketsphinxOutput(
      [
        'hello world',
        '<s> 0.390 0.670 0.999900',
        'hello 0.680 0.790 0.790707',
        '<sil> 0.950 1.610 0.998900',
        'world(2) 1.620 1.770 0.438149',
        '[NOISE] 1.780 1.800 0.5',
        '</s> 1.780 2.380 1.000000',
        'one two three four',
      ].join('\n'),
    );
    expect(words).toEqual([
      { word: 'hello', startSeconds: 0.68, endSeconds: 0.79, confidence: 0.790707 },
      { word: 'world', startSeconds: 1.62, endSeconds: 1.77, confidence: 0.438149 },
    ]);
  });
});

describe('extractKeyFrames', () => {
  test('finds the hard cut and the interval frames, as JPEG files with timestamps', async () => {
    const output = fixture('frames-jpeg');
    await mkdir(output);
    const frames = await extractKeyFrames(fixture('cut.mp4'), output, { intervalSeconds: 1.5 });
    console.info(
      `key frames: ${frames.map((frame) => `${frame.timeSeconds}s ${frame.reason} ${frame.sceneScore}`).join('; ')}`,
    );
    expect(frames[0]).toMatchObject({ timeSeconds: 0, reason: 'first' });
    const cuts = frames.filter((frame) => frame.reason === 'scene');
    expect(cuts).toHaveLength(1);
    expect(Math.abs((cuts[0]?.timeSeconds ?? -1) - CUT_AT_SECONDS)).toBeLessThanOrEqual(0.2);
    expect(frames.some((frame) => frame.reason === 'interval')).toBe(true);
    const times = frames.map((frame) => frame.timeSeconds);
    expect(times).toEqual([...times].sort((left, right) => left - right));
    for (const frame of frames) {
      expect(detectImageType(await readFile(frame.path))).toMatchObject({ type: 'jpeg' });
    }
  });

  test('PNG output, frame cap and scene-only selection', async () => {
    const output = fixture('frames-png');
    await mkdir(output);
    const frames = await extractKeyFrames(fixture('cut.mp4'), output, {
      format: 'png',
      intervalSeconds: 60,
      maxFrames: 2,
    });
    expect(frames.map((frame) => frame.reason)).toEqual(['first', 'scene']);
    for (const frame of frames) {
      expect(detectImageType(await readFile(frame.path))).toMatchObject({ type: 'png' });
    }
  });

  test('refuses corrupt input and audio-only input', async () => {
    const output = fixture('frames-bad');
    await mkdir(output);
    expect(await codeOf(extractKeyFrames(fixture('truncated.mp4'), output))).toBe('corrupt');
    expect(await codeOf(extractKeyFrames(fixture('speech.wav'), output))).toBe('unsupported-type');
  });
});
