/**
 * Speech-to-text behind one interface: the offline PocketSphinx engine (no network, modest
 * US-English accuracy) and OpenAI's transcription API, which OpenAI, Groq and any
 * OpenAI-compatible whisper server (faster-whisper / speaches, whisper.cpp) answer alike.
 * Cloud errors are classified once, as the chat providers' are (models/ai-sdk).
 * The engines live next to this file (pocketsphinx-, openai-transcriber.ts, transcriber-from-env.ts).
 */
import type { TranscribedWord } from './transcribe-speech';

export interface TranscribeOptions {
  /** Kills the recogniser or aborts the HTTP request; the transcription rejects with the abort. */
  signal?: AbortSignal;
  /** Spoken language hint (`en`, `ko`, `en-US`); engines that know one language ignore it. */
  language?: string;
}

export interface Transcript {
  /** Recognised text; empty when nothing was said. */
  text: string;
  /** Words with their times and a confidence of 0–1. */
  words: TranscribedWord[];
  /** The spoken language as the engine reports it (`en-US`, `en`, `english`), or `und`. */
  language: string;
  engine: string;
  model: string;
  durationSeconds?: number;
}

export interface SpeechTranscriber {
  /** `pocketsphinx`, `openai`, `groq`, `openai-compatible`. */
  readonly engine: string;
  readonly model: string;
  /**
   * Transcribes the audio file at `wavPath` (a 16 kHz mono WAV in the media pipeline).
   * Throws `MediaInputError` for input the engine cannot take, the abort reason when
   * `options.signal` aborts, and otherwise the engine's classified errors.
   */
  transcribe(wavPath: string, options?: TranscribeOptions): Promise<Transcript>;
}
