/**
 * What the attachment processors share: tool paths, limits, and the per-call work context
 * (blob store, temp directory, optional model, cancellation, progress, warnings).
 */
import type { AttachmentRef } from '../../core/media/attachments';
import type { ModelProvider } from '../../models/model-provider';
import type { MediaLimits, MediaToolPaths, SpeechTranscriber } from '../audio';
import type { BlobStore } from '../blob';
import type { ImageLimits } from '../image';

/** Where the Debian tools live; each defaults to the name on PATH. */
export interface MediaTools extends MediaToolPaths {
  tesseractPath?: string;
  pocketsphinxPath?: string;
  /** Holds pocketsphinx's `en-us/`, `en-us.lm.bin` and `cmudict-en-us.dict`. */
  pocketsphinxModelDirectory?: string;
}

export interface MediaProcessingLimits {
  /** Image byte, pixel and time limits (see media/image). */
  image?: Partial<ImageLimits>;
  /** Audio/video byte, duration and per-tool time limits (see media/audio). */
  media?: Partial<MediaLimits>;
  /** Largest text attachment in bytes. Default 2 MiB. */
  maxTextBytes?: number;
  /** Most key frames taken from a video. Default 5. */
  maxKeyFrames?: number;
  /** Kill tesseract after this long. Default 60 s. */
  ocrTimeoutMs?: number;
  /** Tesseract languages. Default eng+kor. */
  ocrLanguages?: readonly string[];
  /** Bound on the model part of one attachment (caption with its repair, or summary). Default 60 s. */
  modelTimeoutMs?: number;
}

export const DEFAULT_MAX_TEXT_BYTES = 2 * 1024 * 1024;
export const DEFAULT_MAX_KEY_FRAMES = 5;

/** The stages reported in heartbeats, in the order they run. */
export type MediaStage =
  | 'detect'
  | 'inspect'
  | 'ocr'
  | 'caption'
  | 'probe'
  | 'transcode'
  | 'transcribe'
  | 'key-frames'
  | 'store-frames'
  | 'extract-audio'
  | 'summarize'
  | 'text'
  | 'translate'
  | 'done';

/** One call's context, handed to the processor of the detected kind. */
export interface AttachmentWork {
  /** The attachment, with `contentType` as detected from the bytes. */
  attachment: AttachmentRef;
  blobs: BlobStore;
  tools: MediaTools;
  limits: MediaProcessingLimits;
  /** A fresh directory for this call, removed afterwards. */
  directory: string;
  signal?: AbortSignal;
  /** Captions images and summarises transcripts when set (and not the offline provider). */
  model?: ModelProvider;
  /** Transcribes audio and sound tracks; pocketsphinx with `tools` and `limits` when unset. */
  transcriber?: SpeechTranscriber;
  /** Reports progress; throws when the call was cancelled. */
  stage(stage: MediaStage): void;
  /** Reports something left out without failing (a model fact that could not be had). */
  warn: (message: string, attributes: Record<string, unknown>) => void;
}
