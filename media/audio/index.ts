export {
  DEFAULT_MEDIA_LIMITS,
  LOCAL_FILES_ONLY,
  durationLimitArguments,
  ffmpegInputArguments,
  fileArgument,
  resolveMediaLimits,
  type MediaLimits,
  type MediaToolPaths,
} from '../../core/media/media-limits';
export {
  lastLine,
  runMediaTool,
  type MediaToolResult,
  type RunMediaToolOptions,
} from '../tools/run-media-tool';
export {
  parseFfprobeJson,
  probeMedia,
  type MediaProbe,
  type MediaStreamInfo,
  type ProbeMediaOptions,
} from '../tools/probe-media';
export {
  transcodeAudio,
  type TranscodeAudioOptions,
  type TranscodedAudio,
} from './transcode-audio';
export {
  DEFAULT_POCKETSPHINX_MODEL_DIRECTORY,
  parsePocketsphinxOutput,
  transcribeSpeech,
  type SpeechTranscript,
  type TranscribeSpeechOptions,
  type TranscribedWord,
} from './transcribe-speech';
export { DEFAULT_CLOUD_WORD_CONFIDENCE } from './cloud-words';
export {
  OPENAI_TRANSCRIPTION_MAX_BYTES,
  createOpenAiTranscriber,
  type OpenAiTranscriberOptions,
} from './openai-transcriber';
export {
  createPocketsphinxTranscriber,
  type PocketsphinxTranscriberOptions,
} from './pocketsphinx-transcriber';
export {
  type SpeechTranscriber,
  type TranscribeOptions,
  type Transcript,
} from './speech-transcriber';
export {
  TRANSCRIPTION_ENGINES,
  createSpeechTranscriberFromEnv,
  type SpeechTranscriberFromEnvOptions,
  type TranscriptionEngine,
} from './transcriber-from-env';
