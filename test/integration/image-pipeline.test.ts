/**
 * The image pipeline on real sharp and real tesseract, with every fixture generated here:
 * text drawn with SVG, EXIF written by sharp, a PNG declaring 30000×30000 pixels.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import sharp from 'sharp';
import { LocalBlobStore } from '../../media/blob';
import {
  OUTPUT_FORMATS,
  detectImageType,
  inspectImage,
  readImageBlob,
  recognizeText,
  recognizeTextBlob,
  transformImage,
  transformImageBlob,
} from '../../media/image';
import {
  MediaInputError,
  toApplicationFailure,
  type MediaInputErrorCode,
} from '../../media/media-input-error';
import { createImageActivities } from '../../activities/images';
import { pngBomb, textImageSvg } from '../support/image-fixtures';

const solid = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({
    create: { width, height, channels, background: { r: 200, g: 30, b: 60, alpha: 0.5 } },
  });

async function expectCode(promise: Promise<unknown>, code: MediaInputErrorCode): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(MediaInputError);
  expect((error as MediaInputError).code).toBe(code);
  expect((error as MediaInputError).retryable).toBe(false);
}

describe('OCR with tesseract', () => {
  test('returns the words drawn into the image, with a mean confidence (eng+kor)', async () => {
    const png = await sharp(textImageSvg(['INVOICE 4821 PAID', 'Temporal worker ready']))
      .png()
      .toBuffer();
    const result = await recognizeText(png);
    expect(result.text).toContain('INVOICE 4821 PAID');
    expect(result.text).toContain('Temporal worker ready');
    expect(result.text.split('\n')).toHaveLength(2);
    expect(result.words.map((word) => word.text)).toEqual(
      expect.arrayContaining(['INVOICE', '4821', 'Temporal', 'worker']),
    );
    expect(result.meanConfidence).toBeGreaterThan(80);
    expect(result.meanConfidence).toBeLessThanOrEqual(100);
  });

  test('reads a JPEG stored as a blob; an image without text gives no words', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'tdev-ocr-'));
    try {
      const store = new LocalBlobStore({ root });
      const jpeg = await sharp(textImageSvg(['Blob claim check']))
        .jpeg()
        .toBuffer();
      const ref = await store.put(jpeg, { contentType: 'image/jpeg' });
      const result = await recognizeTextBlob(store, ref, { languages: ['eng'] });
      expect(result.text).toContain('Blob claim check');
      const blank = await recognizeText(await solid(300, 200).png().toBuffer());
      expect(blank).toEqual({ text: '', meanConfidence: 0, words: [] });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  test('a tesseract that runs past its timeout is killed and reported as timeout', async () => {
    const png = await solid(50, 50).png().toBuffer();
    const sleeper = path.join(os.tmpdir(), `tdev-slow-tesseract-${process.pid}.sh`);
    const { writeFile, chmod } = await import('node:fs/promises');
    await writeFile(sleeper, '#!/bin/sh\nexec sleep 5\n');
    await chmod(sleeper, 0o755);
    try {
      await expectCode(recognizeText(png, { tesseractPath: sleeper, timeoutMs: 200 }), 'timeout');
    } finally {
      await rm(sleeper, { force: true });
    }
  });
});

describe('metadata, resize and conversion', () => {
  test('metadata: format, size, alpha and EXIF presence', async () => {
    const png = await solid(320, 200, 4).png().toBuffer();
    expect(await inspectImage(png)).toMatchObject({
      type: 'png',
      mimeType: 'image/png',
      width: 320,
      height: 200,
      hasAlpha: true,
      hasExif: false,
      pages: 1,
      size: png.byteLength,
    });
    const jpeg = await solid(64, 48).jpeg().toBuffer();
    expect(await inspectImage(jpeg)).toMatchObject({ type: 'jpeg', hasAlpha: false });
  });

  test.each(OUTPUT_FORMATS)('resize to fit inside and convert to %s', async (format) => {
    const png = await solid(800, 600, 4).png().toBuffer();
    const result = await transformImage(png, { format, resize: { width: 300, height: 300 } });
    expect(result).toMatchObject({ format, width: 300, height: 225 });
    expect(result.size).toBe(result.data.byteLength);
    expect(detectImageType(result.data)).toMatchObject({ kind: 'image', type: format });
    const reread = await inspectImage(result.data);
    expect(reread).toMatchObject({ type: format, width: 300, height: 225, hasExif: false });
    expect(reread.hasAlpha).toBe(format !== 'jpeg');
    const back = await transformImage(result.data, { format: 'png' });
    expect(back).toMatchObject({ format: 'png', width: 300, height: 225 });
  });

  test('never enlarges; keeps the input format when none is asked for', async () => {
    const webp = await solid(120, 80).webp().toBuffer();
    const result = await transformImage(webp, { resize: { width: 1000 } });
    expect(result).toMatchObject({ format: 'webp', width: 120, height: 80 });
  });

  test('EXIF is stripped on output, after applying its orientation', async () => {
    const withExif = await solid(400, 200)
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({ IFD0: { Copyright: 'Secret Corp', Artist: 'Jane Doe' } })
      .toBuffer();
    const before = await sharp(withExif).metadata();
    expect(before.exif).toBeDefined();
    expect(before.exif!.toString('latin1')).toContain('Jane Doe');
    expect(await inspectImage(withExif)).toMatchObject({ hasExif: true, orientation: 6 });

    for (const format of OUTPUT_FORMATS) {
      const result = await transformImage(withExif, { format });
      const after = await sharp(result.data).metadata();
      expect(after.exif).toBeUndefined();
      expect(after.xmp).toBeUndefined();
      expect(after.iptc).toBeUndefined();
      expect(after.orientation).toBeUndefined();
      expect(result.data.includes('Jane Doe')).toBe(false);
      // Orientation 6 (rotate 90°) was applied before the tag was dropped.
      expect([result.width, result.height]).toEqual([200, 400]);
    }
  });

  test('blob in, blob out: the output is a ref, never bytes', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'tdev-image-blob-'));
    try {
      const store = new LocalBlobStore({ root });
      const input = await store.put(await solid(640, 480).png().toBuffer(), {
        contentType: 'image/png',
      });
      const result = await transformImageBlob(store, input, {
        format: 'avif',
        resize: { width: 160 },
      });
      expect(result).toMatchObject({ format: 'avif', width: 160, height: 120 });
      expect(result.output.contentType).toBe('image/avif');
      expect(JSON.stringify(result).length).toBeLessThan(1_000);
      const stored = await store.getBytes(result.output);
      expect(await inspectImage(stored)).toMatchObject({ type: 'avif', width: 160 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('bad input', () => {
  test('an image bomb (tiny PNG declaring 30000×30000) is rejected by the pixel limit', async () => {
    const bomb = pngBomb();
    expect(bomb.byteLength).toBeLessThan(2_000);
    await expectCode(inspectImage(bomb), 'pixel-limit');
    await expectCode(transformImage(bomb, { format: 'webp' }), 'pixel-limit');
    await expectCode(recognizeText(bomb), 'pixel-limit');
    await expect(inspectImage(bomb)).rejects.toThrow('30000×30000');
  });

  test('a real image over a lowered pixel limit is rejected', async () => {
    const png = await solid(2000, 1000).png().toBuffer();
    await expectCode(transformImage(png, { limits: { maxPixels: 1_000_000 } }), 'pixel-limit');
  });

  test('over-size input is rejected before decoding, and before reading a blob', async () => {
    const png = await solid(400, 400).png().toBuffer();
    await expectCode(inspectImage(png, { limits: { maxBytes: 100 } }), 'too-large');
    const ref = {
      sha256: '0'.repeat(64),
      size: 30 * 1024 * 1024,
      contentType: 'image/png',
      uri: 'file:///nowhere',
    };
    const store = new LocalBlobStore({ root: path.join(os.tmpdir(), 'tdev-never-created') });
    await expectCode(readImageBlob(store, ref), 'too-large');
  });

  test('corrupt images are rejected as corrupt', async () => {
    const png = await solid(200, 200).png().toBuffer();
    const truncated = png.subarray(0, Math.floor(png.byteLength / 2));
    await expectCode(transformImage(truncated), 'corrupt');
    const garbledHeader = Buffer.concat([png.subarray(0, 12), Buffer.alloc(200, 0x41)]);
    await expectCode(transformImage(garbledHeader), 'corrupt');
    const jpegNoise = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 3)]);
    await expectCode(inspectImage(jpegNoise), 'corrupt');
  });

  test('spoofed types: bytes decide, and a declaration that disagrees is rejected', async () => {
    const script = Buffer.from('#!/bin/sh\necho not an image\n');
    await expectCode(inspectImage(script, { declaredType: 'holiday.png' }), 'unsupported-type');
    await expectCode(inspectImage(script, { declaredType: 'image/png' }), 'unsupported-type');
    const png = await solid(10, 10).png().toBuffer();
    await expectCode(inspectImage(png, { declaredType: 'image/jpeg' }), 'type-mismatch');
    await expectCode(transformImage(png, { declaredType: 'photo.JPG' }), 'type-mismatch');
    expect(await inspectImage(png, { declaredType: 'upload.bin' })).toMatchObject({ type: 'png' });
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]);
    await expect(inspectImage(zip, { declaredType: 'image/png' })).rejects.toThrow('ZIP archive');
    const svg = textImageSvg(['hello']);
    await expectCode(inspectImage(svg, { declaredType: 'image/png' }), 'unsupported-type');
  });

  test('an activity turns a MediaInputError into a non-retryable ApplicationFailure', async () => {
    const error: unknown = await inspectImage(pngBomb()).catch((caught: unknown) => caught);
    const failure = toApplicationFailure(error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
      details: [{ code: 'pixel-limit' }],
    });
    const transient = new Error('disk busy');
    expect(toApplicationFailure(transient)).toBe(transient);
  });

  test('the activities reject bad blobs with non-retryable failures and accept good ones', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'tdev-image-activities-'));
    try {
      const store = new LocalBlobStore({ root });
      const activities = createImageActivities({ store, ocr: { languages: ['eng'] } });
      const bomb = await store.put(pngBomb(), { contentType: 'image/png' });
      const spoofed = await store.put(Buffer.from('<html>not an image</html>'), {
        contentType: 'image/jpeg',
      });
      const mislabelled = await store.put(await solid(20, 20).png().toBuffer(), {
        contentType: 'image/webp',
      });
      for (const [image, code] of [
        [bomb, 'pixel-limit'],
        [spoofed, 'unsupported-type'],
        [mislabelled, 'type-mismatch'],
      ] as const) {
        const failure: unknown = await activities
          .transformImage({ image, format: 'png' })
          .catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(ApplicationFailure);
        expect(failure).toMatchObject({ nonRetryable: true, details: [{ code }] });
      }
      const text = await store.put(
        await sharp(textImageSvg(['Claim checks keep history small']))
          .png()
          .toBuffer(),
        { contentType: 'image/png' },
      );
      const ocr = await activities.recognizeText({ image: text });
      expect(ocr.text).toContain('Claim checks keep history small');
      expect(ocr.wordCount).toBe(5);
      expect(await activities.inspectImage({ image: text })).toMatchObject({ type: 'png' });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
