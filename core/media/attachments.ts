/**
 * Attachments of a session request, as the workflow sees them: references to blobs (never the
 * bytes) and the small insights the media activities extract from them. Plain data; safe to
 * import into workflow code.
 */

/** A stored attachment: the blob's identity and where it lives (see media/blob). */
export interface AttachmentRef {
  /** Lower-case hex sha-256 of the bytes. */
  sha256: string;
  size: number;
  /** The type detected from the bytes at intake (magic bytes), e.g. `image/png`, `video/mp4`. */
  contentType: string;
  uri: string;
  /** The file name the user gave, for display only (never used to decide the type). */
  name?: string;
}

export type AttachmentKind = 'image' | 'audio' | 'video' | 'text';

/** What one attachment says, small enough for workflow history. */
export interface AttachmentInsight {
  sha256: string;
  name?: string;
  kind: AttachmentKind;
  /** One line for the planner and the status, e.g. "PNG 1280×720, 42 words of text (en)". */
  summary: string;
  /** OCR text, transcript or the document's text: PII-masked, cut to MAX_INSIGHT_TEXT_CHARS. */
  text?: string;
  /** True when `text` was cut. */
  truncated?: boolean;
  language?: string;
  /** 0–1: how much to trust `text` (OCR / transcription confidence; 1 for plain text). */
  confidence: number;
  /** Scalar facts: width, height, durationS, keyFrames, scenes, words, piiMasked, … */
  facts: Record<string, string | number | boolean>;
  /** Derived blobs (key frames, 16 kHz audio) by role, e.g. `keyFrame:3`. */
  derived?: Record<string, AttachmentRef>;
  /** Set instead of the rest when the attachment could not be processed (non-retryable). */
  error?: { code: string; message: string };
}

/** Insights of all attachments of a turn, combined. */
export interface CombinedInsights {
  attachments: AttachmentInsight[];
  /**
   * Distinct lines of text found across attachments, most trusted first; a line found in
   * several attachments (a slide shown in a screenshot and spoken in a recording) appears
   * once, with every source and the highest confidence, raised for each extra source.
   */
  highlights: { text: string; confidence: number; sources: string[] }[];
}

export const MAX_ATTACHMENTS = 10;
export const MAX_INSIGHT_TEXT_CHARS = 4_000;
const MAX_HIGHLIGHTS = 20;

const normalise = (line: string): string =>
  line
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** Combines insights: pure and deterministic (the workflow calls it directly). */
export function combineInsights(insights: readonly AttachmentInsight[]): CombinedInsights {
  const byKey = new Map<string, { text: string; confidence: number; sources: string[] }>();
  for (const insight of insights) {
    if (insight.error || !insight.text) continue;
    const source = insight.name ?? insight.sha256.slice(0, 12);
    for (const raw of insight.text.split(/\n+/)) {
      const text = raw.trim();
      const key = normalise(text);
      if (key.length < 8) continue;
      const seen = byKey.get(key);
      if (!seen) {
        byKey.set(key, { text, confidence: insight.confidence, sources: [source] });
      } else if (!seen.sources.includes(source)) {
        seen.sources.push(source);
        // Agreement between independent sources raises trust (capped below certainty).
        seen.confidence = Math.min(0.99, Math.max(seen.confidence, insight.confidence) + 0.1);
      }
    }
  }
  const highlights = [...byKey.values()]
    .map((entry) => ({ ...entry, confidence: Math.round(entry.confidence * 100) / 100 }))
    .sort((a, b) => b.sources.length - a.sources.length || b.confidence - a.confidence)
    .slice(0, MAX_HIGHLIGHTS);
  return { attachments: [...insights], highlights };
}

/** The attachments as context for the planner and the agents (at most ~MAX_INSIGHT_TEXT_CHARS). */
export function describeAttachments(combined: CombinedInsights): string {
  const lines = combined.attachments.map((insight) =>
    insight.error
      ? `- ${insight.name ?? insight.sha256.slice(0, 12)}: could not be read (${insight.error.code})`
      : `- ${insight.name ?? insight.sha256.slice(0, 12)} (${insight.kind}): ${insight.summary}`,
  );
  const highlights = combined.highlights.map(
    (entry) => `- "${entry.text}" (${entry.sources.join(', ')}; confidence ${entry.confidence})`,
  );
  const text = [
    'Attachments:',
    ...lines,
    ...(highlights.length ? ['Text found in them:', ...highlights] : []),
  ].join('\n');
  return text.length > MAX_INSIGHT_TEXT_CHARS ? `${text.slice(0, MAX_INSIGHT_TEXT_CHARS)}…` : text;
}
