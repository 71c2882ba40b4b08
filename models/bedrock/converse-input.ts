/**
 * The one translation of a `ModelRequest` into the fields Converse and ConverseStream share,
 * and of Bedrock's usage and tool-use blocks back into the provider-neutral shapes.
 */
import type {
  ContentBlock,
  ConverseRequest,
  Message,
  TokenUsage,
  Tool,
  ToolInputSchema,
  ToolUseBlock,
} from '@aws-sdk/client-bedrock-runtime';
import type { ModelMessage, ModelRequest, ModelToolCall, ModelUsage } from '../model-provider';

/** Fields of a Converse request; ConverseStream takes the same ones. */
export type ConverseInput = Pick<
  ConverseRequest,
  'modelId' | 'system' | 'messages' | 'inferenceConfig' | 'toolConfig'
>;

function toMessage(message: ModelMessage): Message {
  const images: ContentBlock[] = (message.images ?? []).map((image) => ({
    image: { format: image.format, source: { bytes: image.bytes } },
  }));
  // Bedrock rejects a blank text block: an image-only message carries no text block.
  const text: ContentBlock[] =
    message.text === '' && images.length > 0 ? [] : [{ text: message.text }];
  return { role: message.role, content: [...images, ...text] };
}

function toTool(tool: NonNullable<ModelRequest['tools']>[number]): Tool {
  return {
    toolSpec: {
      name: tool.name,
      description: tool.description,
      // A JSON Schema object is a JSON document; the SDK's document type is narrower than
      // `Record<string, unknown>`.
      inputSchema: { json: tool.inputSchema } as ToolInputSchema,
    },
  };
}

/** The Converse fields for `request`; `defaultMaxTokens` applies when the request sets none. */
export function converseInput(
  modelId: string,
  request: ModelRequest,
  defaultMaxTokens: number,
): ConverseInput {
  return {
    modelId,
    ...(request.system ? { system: [{ text: request.system }] } : {}),
    messages: request.messages.map(toMessage),
    inferenceConfig: {
      maxTokens: request.maxTokens ?? defaultMaxTokens,
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    },
    ...(request.tools?.length ? { toolConfig: { tools: request.tools.map(toTool) } } : {}),
  };
}

/** Bedrock's token usage as `ModelUsage`; prompt-cache counts only where Bedrock reported them. */
export function toModelUsage(usage: TokenUsage | undefined): ModelUsage {
  return {
    inputTokens: usage?.inputTokens ?? 0,
    outputTokens: usage?.outputTokens ?? 0,
    ...(usage?.cacheReadInputTokens !== undefined
      ? { cacheReadInputTokens: usage.cacheReadInputTokens }
      : {}),
    ...(usage?.cacheWriteInputTokens !== undefined
      ? { cacheWriteInputTokens: usage.cacheWriteInputTokens }
      : {}),
  };
}

/** A toolUse block as a `ModelToolCall`. */
export function toToolCall(block: ToolUseBlock): ModelToolCall {
  return { id: block.toolUseId ?? '', name: block.name ?? '', input: block.input ?? {} };
}
