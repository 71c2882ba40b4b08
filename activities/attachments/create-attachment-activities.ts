/**
 * The media activities, built from their dependencies (blob store, tool paths, limits, an
 * optional model). Attachments go in as blob refs and come out as small insights; key frames
 * go back into the blob store. Bad media fails with a non-retryable `ApplicationFailure` of
 * type `InvalidInput` whose `details[0].code` is the `MediaInputErrorCode`; other failures
 * stay retryable.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../core/errors';
import type { AttachmentInsight, AttachmentRef } from '../../core/media/attachments';
import type { ModelLayer } from '../../models/model-call';
import type { ModelProvider } from '../../models/model-provider';
import { providerInActivity } from '../model-call-context';
import type { SpeechTranscriber } from '../../media/audio';
import type { BlobStore } from '../../media/blob';
import { toApplicationFailure } from '../../media/media-input-error';
import type {
  MediaProcessingLimits,
  MediaStage,
  MediaTools,
} from '../../media/attachments/media-options';
import { translateText, usableModel } from '../../media/attachments/model-insights';
import { processAttachment } from '../../media/attachments/process-attachment';

export interface MediaActivityDependencies {
  blobs: BlobStore;
  tools?: MediaTools;
  limits?: MediaProcessingLimits;
  /** Parent of the per-call temp directories. Default `os.tmpdir()`. */
  temporaryDirectory?: string;
  /**
   * A vision-capable model for image captions, transcript summaries and translation. Without
   * one (or with the offline provider) insights carry no model facts and `translateText`
   * fails as `ProviderUnavailable`.
   */
  model?: ModelProvider;
  /**
   * The model layer (durable answers, shared limits, ledger): with it every caption, summary
   * and translation is a ledgered call of the running activity that a retry never repeats.
   */
  modelLayer?: ModelLayer;
  /**
   * Speech-to-text for audio and sound tracks, usually `createSpeechTranscriberFromEnv()`.
   * Default pocketsphinx (offline, US English) with `tools` and `limits`.
   */
  transcriber?: SpeechTranscriber;
}

export interface ProcessAttachmentInput {
  attachment: AttachmentRef;
  sessionId: string;
}

export interface TranslateTextInput {
  /** At most `MAX_TRANSLATION_CHARS` (20 000) characters. */
  text: string;
  /** A language name or code: `Korean`, `ko`, `en-US`. */
  targetLanguage: string;
}

export interface TranslateTextResult {
  text: string;
  /** The model that translated it. */
  model: string;
}

export function createMediaActivities(dependencies: MediaActivityDependencies) {
  /** The media model for one activity call, through the model layer when there is one. */
  const modelFor = (
    fields: { tenantId?: string; sessionId?: string },
    stepId: string,
  ): ModelProvider | undefined => {
    const { model, modelLayer } = dependencies;
    if (!model || !modelLayer) return model;
    return providerInActivity(modelLayer, model, () => ({ ...fields, stepId, agent: 'media' }));
  };
  return {
    /**
     * Turns one attachment into an insight by the kind its bytes show (image, audio, video,
     * text). Heartbeats `{ stage }` between stages and stops when cancelled; heartbeats
     * repeat every third of the heartbeat timeout (at most 10 s) while a tool runs. A failing
     * model only leaves its facts out (logged as a warning).
     */
    async processAttachment(input: ProcessAttachmentInput): Promise<AttachmentInsight> {
      const context = Context.current();
      const progress = startHeartbeats(context, 'detect');
      try {
        const insight = await processAttachment(input.attachment, {
          blobs: dependencies.blobs,
          ...(dependencies.tools ? { tools: dependencies.tools } : {}),
          ...(dependencies.limits ? { limits: dependencies.limits } : {}),
          ...(dependencies.temporaryDirectory
            ? { temporaryDirectory: dependencies.temporaryDirectory }
            : {}),
          ...(dependencies.model
            ? { model: modelFor(input, `attachment-${input.attachment.sha256.slice(0, 12)}`) }
            : {}),
          ...(dependencies.transcriber ? { transcriber: dependencies.transcriber } : {}),
          signal: context.cancellationSignal,
          onStage: progress.report,
          onWarning: (message, attributes) => {
            context.log.warn(message, {
              sessionId: input.sessionId,
              sha256: input.attachment.sha256,
              ...attributes,
            });
          },
        });
        context.log.info('Attachment processed', {
          sessionId: input.sessionId,
          sha256: input.attachment.sha256,
          kind: insight.kind,
        });
        return insight;
      } catch (error) {
        throw toApplicationFailure(error);
      } finally {
        progress.stop();
      }
    },

    /**
     * Translates text through the model, keeping its formatting. Fails non-retryably as
     * `InvalidInput` (text over 20 000 characters, bad target language) or
     * `ProviderUnavailable` (no model, or the offline one); model errors keep the provider's
     * classification. Heartbeats while the model writes and stops when cancelled.
     */
    async translateText(input: TranslateTextInput): Promise<TranslateTextResult> {
      const context = Context.current();
      const model = usableModel(modelFor({}, 'translate'));
      if (!model) {
        throw ApplicationFailure.create({
          message: 'Translation needs a language model; this media worker has none',
          type: ERROR_TYPES.providerUnavailable,
          nonRetryable: true,
        });
      }
      const progress = startHeartbeats(context, 'translate');
      try {
        const text = await translateText(
          model,
          input.text,
          input.targetLanguage,
          context.cancellationSignal,
        );
        return { text, model: model.model };
      } finally {
        progress.stop();
      }
    },
  };
}

/**
 * Heartbeats `{ stage }` at once for each reported stage and again on a timer: one tool run
 * or model call can outlast the heartbeat timeout, and each heartbeat is also how a
 * cancellation request reaches this worker.
 */
function startHeartbeats(
  context: Context,
  first: MediaStage,
): { report: (stage: MediaStage) => void; stop: () => void } {
  let current = first;
  const timer = setInterval(
    () => context.heartbeat({ stage: current }),
    heartbeatIntervalMs(context.info.heartbeatTimeoutMs),
  );
  return {
    report: (stage) => {
      current = stage;
      context.heartbeat({ stage });
    },
    stop: () => clearInterval(timer),
  };
}

/** A third of the heartbeat timeout, between 1 and 10 s (10 s without a timeout). */
function heartbeatIntervalMs(heartbeatTimeoutMs: number | undefined): number {
  if (!heartbeatTimeoutMs) return 10_000;
  return Math.min(10_000, Math.max(1_000, Math.floor(heartbeatTimeoutMs / 3)));
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
