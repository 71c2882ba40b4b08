/**
 * The model facts of one attachment: each runs under the work's model timeout and turns any
 * failure into a warning, so an attachment never fails because of its model facts.
 */
import type { ModelProvider } from '../../../models/model-provider';
import { toInsightText } from '../insight-text';
import type { AttachmentWork, MediaStage } from '../media-options';
import { captionImage, fitImageForModel } from './caption-image';
import { DEFAULT_MODEL_INSIGHT_TIMEOUT_MS, abortReason, messageOf, usableModel } from './shared';
import { MIN_SUMMARY_WORDS, summarizeTranscript } from './summarize-transcript';

/**
 * Runs one model part of an attachment (after reporting `stage`) under the work's model
 * timeout. Resolves what `task` gives, or `undefined` after a warning when there is no usable
 * model or `task` fails in any way (model error, timeout, invalid image); rejects only when
 * the work's signal aborted, with its reason.
 */
export async function modelFacts<T>(
  work: AttachmentWork,
  stage: MediaStage,
  task: (model: ModelProvider, signal: AbortSignal) => Promise<T | undefined>,
): Promise<T | undefined> {
  const model = usableModel(work.model);
  if (!model) return undefined;
  work.stage(stage);
  const timeoutMs = work.limits.modelTimeoutMs ?? DEFAULT_MODEL_INSIGHT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = work.signal ? AbortSignal.any([work.signal, timeout]) : timeout;
  try {
    return await task(model, signal);
  } catch (error) {
    if (work.signal?.aborted) throw abortReason(work.signal);
    work.warn(`Model ${stage} left out: ${messageOf(error)}`, {
      model: model.model,
      stage,
      timedOut: timeout.aborted,
    });
    return undefined;
  }
}

/** The caption facts of an image, PII-masked like every insight text; see `modelFacts`. */
export async function imageCaptionFacts(
  work: AttachmentWork,
  bytes: Uint8Array,
): Promise<{ caption: string; objects?: string } | undefined> {
  return modelFacts(work, 'caption', async (model, signal) => {
    const image = await fitImageForModel(bytes, work.limits.image);
    const described = await captionImage(model, image, signal, work.warn);
    if (!described) return undefined;
    const caption = (await toInsightText(described.caption)).text;
    const names = [...new Set(described.objects.map((object) => object.name))].join(', ');
    const objects = names === '' ? '' : (await toInsightText(names)).text;
    return { caption, ...(objects === '' ? {} : { objects }) };
  });
}

/** The transcript summary fact (PII-masked); see `modelFacts`. */
export async function transcriptSummaryFacts(
  work: AttachmentWork,
  transcript: string,
): Promise<{ transcriptSummary: string } | undefined> {
  if (transcript.split(/\s+/).filter(Boolean).length < MIN_SUMMARY_WORDS) return undefined;
  return modelFacts(work, 'summarize', async (model, signal) => {
    const summary = await summarizeTranscript(model, transcript, signal);
    return summary ? { transcriptSummary: (await toInsightText(summary)).text } : undefined;
  });
}
