/**
 * A local stand-in for Amazon Bedrock's runtime that speaks the real Converse wire protocol
 * (REST-JSON over HTTP/2 as the SDK's default handler uses it, SigV4-signed requests,
 * `x-amzn-errortype` errors), so the real @aws-sdk/client-bedrock-runtime code path runs in
 * tests. It records every call and answers from a script: text, a typed error, a delay, or a
 * hang (a call that never answers).
 *
 * Calls of the Supervisor's planner (system prompt carrying PLANNER_PROMPT_ID) are kept apart:
 * they answer from the planner script, are recorded in `plannerCalls` only, and count in no
 * other statistic. Without a planner script they fail with a ValidationException, so a
 * hybrid-mode worker plans by rules after one quick call, as tests written before the
 * planner expect.
 */
import {
  createServer,
  type Http2ServerRequest as IncomingMessage,
  type Http2ServerResponse as ServerResponse,
  type Http2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { PLANNER_PROMPT_ID } from '../../activities/planning/planner-prompt';

export interface ConverseCall {
  modelId: string;
  /** Session and step ids parsed from the agent prompt ("Session: <id> · turn n · step <id>"). */
  sessionId?: string;
  stepId?: string;
  /** 1-based count of calls for this session's step so far, this one included. */
  callNumber: number;
  body: ConverseBody;
  authorization: string;
  /** Usage this server reported for the call (successful calls only). */
  usage?: { inputTokens: number; outputTokens: number };
}

interface ConverseBody {
  messages?: { role: string; content: { text?: string }[] }[];
  system?: { text?: string }[];
  inferenceConfig?: { maxTokens?: number };
}

export type ScriptedReply =
  | { kind: 'text'; text?: string; delayMs?: number }
  | { kind: 'error'; status: number; name: string; message?: string }
  | { kind: 'hang' };

export type ConverseScript = (call: ConverseCall) => ScriptedReply;

export interface PlannerCall {
  body: ConverseBody;
  /** The request text the planner was asked about ("Request:\n..." in the first message). */
  request: string;
  /** True for the repair turn (the model's previous answer and its errors follow). */
  repair: boolean;
  /** 1-based count of planner calls so far, this one included. */
  callNumber: number;
}

export type PlannerScript = (call: PlannerCall) => ScriptedReply;

export interface FakeBedrockOptions {
  /** Answers the planner's calls; see the module comment for the default. */
  planner?: PlannerScript;
}

export interface FakeBedrock {
  url: string;
  calls: ConverseCall[];
  /** Calls made for one step of one session. */
  callsForStep(sessionId: string, stepId: string): number;
  /** Calls made for one session. */
  callsForSession(sessionId: string): number;
  /** Replaces the script for calls from now on. */
  setScript(script: ConverseScript): void;
  /** The planner's calls (not in `calls`). */
  plannerCalls: PlannerCall[];
  /** Replaces the planner script for planner calls from now on. */
  setPlannerScript(script: PlannerScript): void;
  /** Total usage reported to clients (200 responses only). */
  reportedUsage: { inputTokens: number; outputTokens: number };
  /** Most calls that were in progress at the same moment. */
  maxInFlight(): number;
  close(): Promise<void>;
}

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[A-Za-z0-9]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, ?SignedHeaders=[a-z0-9;:-]+, ?Signature=[0-9a-f]{64}$/;

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

const UNSCRIPTED_PLANNER: PlannerScript = () => ({
  kind: 'error',
  status: 400,
  name: 'ValidationException',
  message: 'planner replies are not scripted in this fake',
});

export async function startFakeBedrock(
  script: ConverseScript = () => ({ kind: 'text' }),
  options: FakeBedrockOptions = {},
): Promise<FakeBedrock> {
  let current = script;
  let planner = options.planner ?? UNSCRIPTED_PLANNER;
  const plannerCalls: PlannerCall[] = [];
  const calls: ConverseCall[] = [];
  const perStep = new Map<string, number>();
  const reportedUsage = { inputTokens: 0, outputTokens: 0 };
  const hanging = new Set<ServerResponse>();
  let inFlight = 0;
  let maxInFlight = 0;

  const sendError = (
    response: ServerResponse,
    status: number,
    name: string,
    message: string,
  ): void => {
    response.writeHead(status, {
      'content-type': 'application/json',
      'x-amzn-errortype': `${name}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
      'x-amzn-requestid': `fake-${calls.length}`,
    });
    response.end(JSON.stringify({ message }));
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const match = /^\/model\/([^/]+)\/converse$/.exec(request.url ?? '');
    if (request.method !== 'POST' || !match?.[1]) {
      sendError(
        response,
        404,
        'UnknownOperationException',
        `no route ${request.method} ${request.url}`,
      );
      return;
    }
    const authorization = String(request.headers.authorization ?? '');
    if (!SIGV4.test(authorization)) {
      sendError(
        response,
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: ConverseBody;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConverseBody;
    } catch {
      sendError(
        response,
        400,
        'ValidationException',
        'Malformed input request, please reformat your input and try again.',
      );
      return;
    }
    const prompt = (body.messages ?? [])
      .flatMap((message) => message.content.map((block) => block.text ?? ''))
      .join('\n');
    if ((body.system ?? []).some((block) => block.text?.includes(PLANNER_PROMPT_ID))) {
      const first = body.messages?.[0]?.content[0]?.text ?? '';
      const call: PlannerCall = {
        body,
        request: /^Request:\n([\s\S]*?)\n\nAgents you may use/.exec(first)?.[1] ?? '',
        repair: (body.messages?.length ?? 0) > 1,
        callNumber: plannerCalls.length + 1,
      };
      plannerCalls.push(call);
      await answerPlanner(response, planner(call));
      return;
    }
    const sessionId = /Session: (\S+)/.exec(prompt)?.[1];
    const stepId = /· step ([a-z0-9_-]+)/.exec(prompt)?.[1];
    const key = `${sessionId ?? '-'}/${stepId ?? '-'}`;
    const callNumber = (perStep.get(key) ?? 0) + 1;
    perStep.set(key, callNumber);
    const call: ConverseCall = {
      modelId: decodeURIComponent(match[1]),
      callNumber,
      body,
      authorization,
      ...(sessionId ? { sessionId } : {}),
      ...(stepId ? { stepId } : {}),
    };
    calls.push(call);
    const reply = current(call);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => {
      inFlight -= 1;
    });
    const answer = await readyToAnswer(response, reply);
    if (!answer) return;
    const text =
      answer.text ?? `Answer for step ${stepId ?? '?'} (call ${callNumber}) from ${call.modelId}.`;
    const usage = { inputTokens: tokens(prompt), outputTokens: tokens(text) };
    call.usage = usage;
    reportedUsage.inputTokens += usage.inputTokens;
    reportedUsage.outputTokens += usage.outputTokens;
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-amzn-requestid': `fake-${calls.length}`,
    });
    response.end(
      JSON.stringify({
        output: { message: { role: 'assistant', content: [{ text }] } },
        stopReason: 'end_turn',
        usage: { ...usage, totalTokens: usage.inputTokens + usage.outputTokens },
        metrics: { latencyMs: answer.delayMs ?? 1 },
      }),
    );
  };

  /**
   * Handles the scripted replies that are not a 200 (hang, error) and waits out a text reply's
   * delay; resolves with the text reply when the caller should now send the 200.
   */
  const readyToAnswer = async (
    response: ServerResponse,
    reply: ScriptedReply,
  ): Promise<Extract<ScriptedReply, { kind: 'text' }> | undefined> => {
    if (reply.kind === 'hang') {
      hanging.add(response);
      response.on('close', () => hanging.delete(response));
      return undefined;
    }
    if (reply.kind === 'error') {
      sendError(response, reply.status, reply.name, reply.message ?? reply.name);
      return undefined;
    }
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    return reply;
  };

  const answerPlanner = async (response: ServerResponse, reply: ScriptedReply): Promise<void> => {
    const answer = await readyToAnswer(response, reply);
    if (!answer) return;
    const text = answer.text ?? '{}';
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        output: { message: { role: 'assistant', content: [{ text }] } },
        stopReason: 'end_turn',
        usage: { inputTokens: 1, outputTokens: tokens(text), totalTokens: 1 + tokens(text) },
        metrics: { latencyMs: answer.delayMs ?? 1 },
      }),
    );
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, 'InternalServerException', String(error));
    });
  });
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    callsForStep: (sessionId, stepId) => perStep.get(`${sessionId}/${stepId}`) ?? 0,
    callsForSession: (sessionId) => calls.filter((call) => call.sessionId === sessionId).length,
    setScript(next) {
      current = next;
    },
    plannerCalls,
    setPlannerScript(next) {
      planner = next;
    },
    reportedUsage,
    maxInFlight: () => maxInFlight,
    async close() {
      for (const response of hanging) response.stream.close();
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
