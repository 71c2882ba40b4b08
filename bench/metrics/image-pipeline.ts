/**
 * Image pipeline throughput, in process (no server): our image pipeline against raw sharp
 * doing the same operations on the same inputs.
 *
 * - ours: `transformImage(bytes, { resize, format, quality })` from
 *   media/image, the bytes-level function the activity wraps. It runs
 *   `inspectImage` first (byte limit, magic-byte type detection, `sharp().metadata()`, pixel
 *   limit), then `sharp(bytes, { limitInputPixels, failOn: 'truncated' }).timeout()`
 *   `.autoOrient().toColourspace('srgb').resize({ fit: 'inside', withoutEnlargement })`
 *   `.toFormat(format, { quality }).toBuffer({ resolveWithObject: true })`; metadata (EXIF
 *   etc.) is not kept.
 * - raw: `sharp(bytes).metadata()`, then `sharp(bytes).rotate().resize({ same box, fit:
 *   'inside', withoutEnlargement }).toFormat(format, { quality }).toBuffer()` — sharp's
 *   defaults strip EXIF too.
 * - ours-activity (information only): the real activity path,
 *   `createImageActivities({ store: LocalBlobStore in a temp dir }).transformImage({ image:
 *   ref, ... })`: reads the input blob from disk, `transformImage`, writes the output blob
 *   (sha-256 while streaming to a temp file, then a hard link).
 *
 * Inputs are generated with sharp: gradient + noise JPEGs (quality 90) with an EXIF block,
 * 1920×1080 (orientation 1) and 4000×3000 (orientation 6, so auto-orient rotates). Jobs: each
 * input to JPEG and to WebP, quality 80, inside a box. Sides alternate image by image (each job
 * on all three sides, order rotated per job and round); each image is timed alone (performance.now). Throughput = jobs / Σ per-job median
 * time (robust to load bursts on a shared machine); mean-based and paired figures are in the
 * details.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { LocalBlobStore, type BlobRef } from '../../media/blob';
import { transformImage, type OutputFormat } from '../../media/image';
import { createImageActivities } from '../../activities/images';
import type { BenchMetric } from '../core/metric';
import { compare, round } from '../core/records';
import { median, summarize } from '../core/stats';

export interface ImagePipelineOptions {
  /** Untimed passes over all jobs per side. */
  warmup: number;
  /** Timed rounds: each job once per side per round, the sides' order rotated per job. */
  rounds: number;
  /** Bound on ours / raw throughput. */
  targetRatio: number;
}

export const IMAGE_PIPELINE_DEFAULTS: ImagePipelineOptions = {
  warmup: 2,
  rounds: 16,
  targetRatio: 0.95,
};

interface BenchInput {
  label: string;
  width: number;
  height: number;
  orientation: number;
}

const INPUTS: readonly BenchInput[] = [
  { label: '1920x1080', width: 1920, height: 1080, orientation: 1 },
  { label: '4000x3000', width: 4000, height: 3000, orientation: 6 },
];

interface Job {
  input: BenchInput;
  format: OutputFormat;
  quality: number;
  box: { width: number; height: number };
}

const JOBS: readonly Job[] = [
  { input: INPUTS[0]!, format: 'jpeg', quality: 80, box: { width: 1024, height: 1024 } },
  { input: INPUTS[0]!, format: 'webp', quality: 80, box: { width: 1280, height: 1280 } },
  { input: INPUTS[1]!, format: 'jpeg', quality: 80, box: { width: 1600, height: 1600 } },
  { input: INPUTS[1]!, format: 'webp', quality: 80, box: { width: 1024, height: 1024 } },
];

const jobName = (job: Job) =>
  `${job.input.label} → ${job.format} q${job.quality} inside ${job.box.width}`;

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A JPEG (quality 90) of a colour gradient with per-pixel noise, carrying EXIF. */
async function makeInput(input: BenchInput): Promise<Buffer> {
  const { width, height } = input;
  const next = random(width * 31 + height);
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const offset = (y * width + x) * 3;
      const noise = (next() - 0.5) * 48;
      pixels[offset] = Math.max(0, Math.min(255, (x / width) * 255 + noise));
      pixels[offset + 1] = Math.max(0, Math.min(255, (y / height) * 255 - noise));
      pixels[offset + 2] = Math.max(0, Math.min(255, ((x + y) / (width + height)) * 255 + noise));
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .withExif({
      IFD0: {
        Make: 'T-Developer bench',
        Model: `synthetic ${input.label}`,
        Software: 'sharp',
        DateTime: '2026:11:24 12:00:00',
      },
    })
    .withMetadata({ orientation: input.orientation })
    .toBuffer();
}

type Side = 'ours' | 'raw' | 'activity';
const SIDES: readonly Side[] = ['ours', 'raw', 'activity'];

function sidesInTurn(turn: number): Side[] {
  return SIDES.map((_, index) => SIDES[(index + turn) % SIDES.length]!);
}

export function imagePipeline(
  options: ImagePipelineOptions = IMAGE_PIPELINE_DEFAULTS,
): BenchMetric {
  return {
    name: 'image-pipeline',
    description:
      `In process: transformImage() on bytes (inspectImage: magic bytes + sharp metadata + ` +
      `limits; then auto-orient, sRGB, resize inside a box, encode, metadata stripped) vs raw ` +
      `sharp (metadata(), then rotate().resize().toFormat().toBuffer()), and, for ` +
      `information, the transformImage activity on a LocalBlobStore in a temp dir. Inputs: ` +
      `gradient+noise JPEGs with EXIF, ${INPUTS.map((input) => input.label).join(' and ')}; ` +
      `${JOBS.length} jobs (JPEG and WebP q80); ${options.warmup} warm-up passes, then ` +
      `${options.rounds} rounds of every job on every side, the sides' order rotated per ` +
      `image, each image timed alone. Target: ours/raw images/s ≥ ${options.targetRatio}.`,
    async run(context) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tdev-bench-images-'));
      try {
        const inputs = new Map<BenchInput, Buffer>();
        for (const input of INPUTS) inputs.set(input, await makeInput(input));
        const store = new LocalBlobStore({ root: dir });
        const refs = new Map<BenchInput, BlobRef>();
        for (const [input, bytes] of inputs) {
          refs.set(input, await store.put(bytes, { contentType: 'image/jpeg' }));
        }
        const activities = createImageActivities({ store });

        let sink = 0;
        const rawSharp = async (job: Job): Promise<Buffer> => {
          const bytes = inputs.get(job.input)!;
          const metadata = await sharp(bytes).metadata();
          sink += metadata.width;
          return sharp(bytes)
            .rotate()
            .resize({ ...job.box, fit: 'inside', withoutEnlargement: true })
            .toFormat(job.format, { quality: job.quality })
            .toBuffer();
        };
        const runs: Record<Side, (job: Job) => Promise<void>> = {
          ours: async (job) => {
            const result = await transformImage(inputs.get(job.input)!, {
              resize: job.box,
              format: job.format,
              quality: job.quality,
            });
            sink += result.size;
          },
          raw: async (job) => {
            sink += (await rawSharp(job)).byteLength;
          },
          activity: async (job) => {
            const result = await activities.transformImage({
              image: refs.get(job.input)!,
              resize: job.box,
              format: job.format,
              quality: job.quality,
            });
            sink += result.size;
          },
        };

        // Both sides must produce the same image: same dimensions, and (expected) the same bytes.
        const equivalence: Record<string, unknown>[] = [];
        for (const job of JOBS) {
          const ours = await transformImage(inputs.get(job.input)!, {
            resize: job.box,
            format: job.format,
            quality: job.quality,
          });
          const raw = await rawSharp(job);
          const rawInfo = await sharp(raw).metadata();
          if (rawInfo.width !== ours.width || rawInfo.height !== ours.height) {
            throw new Error(
              `image-pipeline: ${jobName(job)}: ours ${ours.width}×${ours.height}, raw ` +
                `${rawInfo.width}×${rawInfo.height}`,
            );
          }
          const oursInfo = await sharp(ours.data).metadata();
          if (ours.input.hasExif !== true || oursInfo.exif !== undefined || rawInfo.exif) {
            throw new Error(`image-pipeline: ${jobName(job)}: EXIF not as expected`);
          }
          equivalence.push({
            job: jobName(job),
            output: `${ours.width}×${ours.height}`,
            oursBytes: ours.size,
            rawBytes: raw.byteLength,
            identical: Buffer.compare(ours.data, raw) === 0,
          });
        }

        for (let pass = 0; pass < options.warmup; pass += 1) {
          for (const side of sidesInTurn(pass)) for (const job of JOBS) await runs[side](job);
        }
        const samples: Record<Side, number[]> = { ours: [], raw: [], activity: [] };
        const perJob: Record<Side, Map<Job, number[]>> = {
          ours: new Map(JOBS.map((job) => [job, []])),
          raw: new Map(JOBS.map((job) => [job, []])),
          activity: new Map(JOBS.map((job) => [job, []])),
        };
        // Paired ratios: raw time / our time of the same job in the same round.
        const pairedRatios: number[] = [];
        const started = performance.now();
        for (let round = 0; round < options.rounds; round += 1) {
          for (const [jobIndex, job] of JOBS.entries()) {
            const ms: Record<Side, number> = { ours: 0, raw: 0, activity: 0 };
            for (const side of sidesInTurn(round + jobIndex)) {
              const before = performance.now();
              await runs[side](job);
              ms[side] = performance.now() - before;
              samples[side].push(ms[side]);
              perJob[side].get(job)!.push(ms[side]);
            }
            pairedRatios.push(ms.raw / ms.ours);
          }
        }
        const elapsedMs = performance.now() - started;
        // Throughput from per-job medians (robust to bursts of load on a shared machine):
        // jobs / Σ median time per job. The plain mean-based figure is in the details.
        const medianIps = (side: Side, jobs: readonly Job[] = JOBS) =>
          jobs.length / (jobs.reduce((sum, job) => sum + median(perJob[side].get(job)!), 0) / 1000);
        const meanIps = (side: Side) =>
          samples[side].length / (samples[side].reduce((sum, ms) => sum + ms, 0) / 1000);
        const ips = (side: Side) => medianIps(side);
        const jobDetails = JOBS.map((job) => ({
          job: jobName(job),
          oursMsP50: round(median(perJob.ours.get(job)!), 2),
          rawMsP50: round(median(perJob.raw.get(job)!), 2),
          activityMsP50: round(median(perJob.activity.get(job)!), 2),
          ratio: round(median(perJob.raw.get(job)!) / median(perJob.ours.get(job)!), 3),
        }));
        context.log(
          `image-pipeline: ours ${ips('ours').toFixed(2)} img/s, raw sharp ` +
            `${ips('raw').toFixed(2)} img/s (${(ips('ours') / ips('raw')).toFixed(3)}×; ` +
            `mean-based ${(meanIps('ours') / meanIps('raw')).toFixed(3)}×, paired median ` +
            `${(1 / median(pairedRatios)).toFixed(3)}×), ` +
            `activity on LocalBlobStore ${ips('activity').toFixed(2)} img/s; per job p50 ms ` +
            `ours/raw: ${jobDetails.map((job) => `${job.job} ${job.oursMsP50}/${job.rawMsP50}`).join(', ')}; ` +
            `byte-identical outputs ${equivalence.filter((entry) => entry.identical).length}/` +
            `${equivalence.length}; ${(elapsedMs / 1000).toFixed(1)} s timed, ${sink} bytes`,
        );
        const perInput = INPUTS.map((input) => {
          const jobs = JOBS.filter((job) => job.input === input);
          return compare({
            name: `image pipeline ${input.label} (JPEG+WebP q80) vs raw sharp`,
            ours: medianIps('ours', jobs),
            baseline: medianIps('raw', jobs),
            unit: 'img/s',
            better: 'higher',
          });
        });
        return {
          records: [
            compare({
              name: 'image pipeline throughput (transformImage on bytes vs raw sharp)',
              ours: ips('ours'),
              baseline: ips('raw'),
              unit: 'img/s',
              better: 'higher',
              target: options.targetRatio,
              details: {
                definition: 'images/s = jobs / Σ over jobs of the median time of one image',
                meanBased: {
                  oursImagesPerSecond: round(meanIps('ours'), 3),
                  rawImagesPerSecond: round(meanIps('raw'), 3),
                  ratio: round(meanIps('ours') / meanIps('raw'), 3),
                },
                ours: summarize(samples.ours),
                raw: summarize(samples.raw),
                pairedRawOverOursRatio: summarize(pairedRatios),
                perJob: jobDetails,
                equivalence,
                sharpConcurrency: sharp.concurrency(),
                baselineKind:
                  'sharp(bytes).metadata(); sharp(bytes).rotate().resize({fit: inside, ' +
                  'withoutEnlargement}).toFormat(format, {quality}).toBuffer()',
              },
            }),
            ...perInput,
            compare({
              name: 'image pipeline: transformImage activity (LocalBlobStore) vs raw sharp',
              ours: ips('activity'),
              baseline: ips('raw'),
              unit: 'img/s',
              better: 'higher',
              details: { activity: summarize(samples.activity) },
            }),
          ],
          parameters: {
            ...options,
            inputs: INPUTS.map((input) => ({
              ...input,
              bytes: inputs.get(input)!.byteLength,
            })),
            jobs: JOBS.map(jobName),
            sharpConcurrency: sharp.concurrency(),
            libvips: sharp.versions.vips,
            timing: 'each image timed alone (performance.now); sides rotated image by image',
            timedSeconds: round(elapsedMs / 1000, 1),
          },
        };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
