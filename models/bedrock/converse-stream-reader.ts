/**
 * Folds the events of one ConverseStream into an answer: text deltas go to the sink as they
 * arrive; tool-use blocks are assembled from `contentBlockStart.toolUse` and the JSON
 * fragments of `contentBlockDelta.toolUse.input`.
 */
import type { ConverseStreamOutput, TokenUsage } from '@aws-sdk/client-bedrock-runtime';
import type { ModelToolCall, TextSink } from '../model-provider';
import { ModelStreamIncompleteError } from './errors';

export interface StreamedAnswer {
  text: string;
  toolCalls: ModelToolCall[];
  stopReason: string;
  usage: TokenUsage;
}

interface ToolBlock {
  id: string;
  name: string;
  input: string;
}

/** Parses a tool's streamed input; an unreadable one means the stream was damaged. */
function parseToolInput(model: string, block: ToolBlock): unknown {
  if (block.input.trim() === '') return {};
  try {
    return JSON.parse(block.input) as unknown;
  } catch {
    throw new ModelStreamIncompleteError(model, [`a complete input for tool ${block.name}`]);
  }
}

/**
 * Reads `events` to the end. Resolves only when the stream carried both `messageStop` (the
 * stop reason) and `metadata` (the usage); otherwise rejects with `ModelStreamIncompleteError`.
 * An exception event inside the stream is thrown by the SDK's iterator and propagates as is.
 */
export async function readConverseStream(
  model: string,
  events: AsyncIterable<ConverseStreamOutput> | undefined,
  onText: TextSink,
): Promise<StreamedAnswer> {
  let text = '';
  const tools = new Map<number, ToolBlock>();
  let stopReason: string | undefined;
  let usage: TokenUsage | undefined;
  for await (const event of events ?? []) {
    if (event.contentBlockStart?.start?.toolUse) {
      const { toolUseId, name } = event.contentBlockStart.start.toolUse;
      tools.set(event.contentBlockStart.contentBlockIndex ?? tools.size, {
        id: toolUseId ?? '',
        name: name ?? '',
        input: '',
      });
    } else if (event.contentBlockDelta?.delta) {
      const { delta, contentBlockIndex } = event.contentBlockDelta;
      if (delta.text) {
        text += delta.text;
        onText(delta.text);
      } else if (delta.toolUse?.input !== undefined) {
        const block = tools.get(contentBlockIndex ?? -1);
        if (block) block.input += delta.toolUse.input;
      }
    } else if (event.messageStop) {
      stopReason = event.messageStop.stopReason ?? 'unknown';
    } else if (event.metadata) {
      usage = event.metadata.usage ?? {
        inputTokens: undefined,
        outputTokens: undefined,
        totalTokens: undefined,
      };
    }
  }
  if (stopReason === undefined || usage === undefined) {
    const missing = [
      ...(stopReason === undefined ? ['messageStop'] : []),
      ...(usage === undefined ? ['metadata'] : []),
    ];
    throw new ModelStreamIncompleteError(model, missing);
  }
  const toolCalls = [...tools.entries()]
    .sort(([left], [right]) => left - right)
    .map(([, block]) => ({ id: block.id, name: block.name, input: parseToolInput(model, block) }));
  return { text, toolCalls, stopReason, usage };
}
