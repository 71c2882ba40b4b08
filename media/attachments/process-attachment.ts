/**
 * One attachment to one insight: detect the kind from the bytes, then run the processor of
 * that kind in a fresh temp directory that is always removed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AttachmentInsight, AttachmentRef } from '../../core/media/attachments';
import type { ModelProvider } from '../../models/model-provider';
import { probeMedia, resolveMediaLimits, type SpeechTranscriber } from '../audio';
import type { BlobStore } from '../blob';
import { MediaInputError } from '../media-input-error';
import { readBlobHead, writeBlobToFile } from './blob-files';
import { MEDIA_HEAD_BYTES, detectMediaKind, type DetectedMedia } from './detect-media-kind';
import { describeAudio } from './describe-audio';
import { describeImage } from './describe-image';
import { describeText } from './describe-text';
import { describeVideo } from './describe-video';
import type { InsightWarning } from './model-insights';
import type {
  AttachmentWork,
  MediaProcessingLimits,
  MediaStage,
  MediaTools,
} from './media-options';

export interface ProcessAttachmentOptions {
  blobs: BlobStore;
  tools?: MediaTools;
  limits?: MediaProcessingLimits;
  /**
   * Captions images and summarises transcripts (`facts.caption`, `facts.objects`,
   * `facts.transcriptSummary`); the offline provider is not asked. A model failure only
   * leaves these facts out (see `onWarning`).
   */
  model?: ModelProvider;
  /**
   * Transcribes audio and video sound tracks (see `createSpeechTranscriberFromEnv`). Default
   * pocketsphinx, offline, with `tools` and `limits`. Unlike the model, its failures fail the
   * attachment (a cloud engine's are classified like a chat provider's).
   */
  transcriber?: SpeechTranscriber;
  /** Told what was left out and why (a model fact that failed); the activity logs it. */
  onWarning?: InsightWarning;
  /** Aborts the running tool and the remaining stages. */
  signal?: AbortSignal;
  /** Called before each stage (the activity heartbeats here). */
  onStage?: (stage: MediaStage) => void;
  /** Parent of the per-call temp directory. Default `os.tmpdir()`. */
  temporaryDirectory?: string;
}

const baseType = (contentType: string): string =>
  (contentType.split(';')[0] ?? '').trim().toLowerCase();

/**
 * Describes the attachment by the kind its bytes show. Throws `MediaInputError` for input
 * that cannot be processed (unsupported-type, corrupt, too-large, pixel-limit,
 * duration-limit, timeout); the abort reason when `signal` aborts; plain `Error`s for
 * transient faults (blob store, a tool that is missing or crashed). Never fails because of
 * the model: its facts are left out instead.
 */
export async function processAttachment(
  attachment: AttachmentRef,
  options: ProcessAttachmentOptions,
): Promise<AttachmentInsight> {
  const { blobs, signal } = options;
  const stage = (name: MediaStage): void => {
    signal?.throwIfAborted();
    options.onStage?.(name);
  };
  stage('detect');
  const detected = detectMediaKind(await readBlobHead(blobs, attachment, MEDIA_HEAD_BYTES));
  const directory = await mkdtemp(
    path.join(options.temporaryDirectory ?? os.tmpdir(), 'tdev-attachment-'),
  );
  try {
    const work: AttachmentWork = {
      attachment: { ...attachment, contentType: detected.contentType },
      blobs,
      tools: options.tools ?? {},
      limits: options.limits ?? {},
      directory,
      ...(signal ? { signal } : {}),
      ...(options.model ? { model: options.model } : {}),
      ...(options.transcriber ? { transcriber: options.transcriber } : {}),
      stage,
      warn: options.onWarning ?? (() => undefined),
    };
    const insight = await describe(work, detected);
    stage('done');
    return { ...insight, facts: { ...insight.facts, ...typeFacts(attachment, detected) } };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function describe(work: AttachmentWork, detected: DetectedMedia): Promise<AttachmentInsight> {
  if (detected.kind === 'image') return describeImage(work);
  if (detected.kind === 'text') return describeText(work);
  const limits = resolveMediaLimits(work.limits.media);
  if (work.attachment.size > limits.maxBytes) {
    throw new MediaInputError(
      'too-large',
      `${work.attachment.size} bytes exceeds the limit of ${limits.maxBytes}`,
    );
  }
  const inputPath = path.join(work.directory, 'input');
  await writeBlobToFile(work.blobs, work.attachment, inputPath, work.signal);
  work.stage('probe');
  const probe = await probeMedia(inputPath, {
    limits,
    ...(work.signal ? { signal: work.signal } : {}),
    ...(work.tools.ffprobePath ? { ffprobePath: work.tools.ffprobePath } : {}),
  });
  // The container decides audio vs. video: an MP4 without a picture is audio, an Ogg with
  // Theora video is video.
  return probe.hasVideo
    ? describeVideo(work, inputPath, probe)
    : describeAudio(work, inputPath, probe);
}

/** The detected content type, and the declared one when its major type disagrees. */
function typeFacts(
  attachment: AttachmentRef,
  detected: DetectedMedia,
): Record<string, string | boolean> {
  const declared = baseType(attachment.contentType);
  const actual = baseType(detected.contentType);
  const mismatch = declared.split('/')[0] !== actual.split('/')[0];
  return {
    contentType: actual,
    ...(mismatch ? { typeMismatch: true, declaredContentType: declared || '(none)' } : {}),
  };
}
