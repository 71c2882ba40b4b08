/**
 * Chunking throughput, in process (no server): our sentence-aware chunker against one pass of
 * the raw tokenizer over the same text.
 *
 * - ours: `chunkText(corpus, { maxTokens, overlapTokens, counter })` with the exact counter
 *   `loadTokenCounter('gpt-4o-mini')` (o200k_base through gpt-tokenizer): ICU sentence split,
 *   an exact count of every sentence, greedy packing, an exact re-count of every chunk (and
 *   a bisection when the summed counts were optimistic) and the overlap's exact counts.
 * - raw: `encode(corpus, { disallowedSpecial: new Set() })` from
 *   `gpt-tokenizer/encoding/o200k_base`, the module the counter wraps (same options, so the
 *   same plain-text treatment of special-token text, and the same merge cache).
 *
 * The corpus is ~1 MB (UTF-8) of English, Korean and Japanese paragraphs generated from a
 * seeded PRNG, so every run chunks the same text. Sides alternate (A B, B A, ...); each run
 * is timed alone with performance.now(). Throughput = UTF-8 MB (10^6 bytes) per second.
 *
 * After the timed runs, a profile splits our time into phases (sentence segmentation, unit
 * building with its per-sentence counts, the packing loop) and the counter's share of each,
 * using an instrumented counter that records every text it is asked to count.
 */
import { chunkText, splitSentences, type TextChunk } from '../../media/text/chunking';
import type { ChunkContext } from '../../media/text/chunking/chunk-context';
import { buildUnits } from '../../media/text/chunking/units';
import { loadTokenCounter, type TokenCounter } from '../../models/tokens';
import type { BenchMetric } from '../core/metric';
import { compare, round } from '../core/records';
import { median, summarize } from '../core/stats';
import { sidesInOrder, type Side } from '../core/schedule';

export interface ChunkingBenchOptions {
  /** Size of the generated corpus in UTF-8 bytes (at least). */
  corpusBytes: number;
  maxTokens: number;
  overlapTokens: number;
  model: string;
  /** Untimed runs per side. */
  warmup: number;
  /** Timed runs per side (one per side per block, order alternating). */
  blocks: number;
  /** Profile repetitions (median reported). */
  profileRounds: number;
  /** Bound on ours / raw throughput. */
  targetRatio: number;
}

export const CHUNKING_DEFAULTS: ChunkingBenchOptions = {
  corpusBytes: 1_000_000,
  maxTokens: 512,
  overlapTokens: 64,
  model: 'gpt-4o-mini',
  warmup: 2,
  blocks: 10,
  profileRounds: 3,
  targetRatio: 0.9,
};

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const EN_SUBJECTS = [
  'The billing service',
  'Our team',
  'The security review',
  'Dr. Kim',
  'The deployment pipeline',
  'Every worker process',
  'The API gateway',
  'Ms. Tanaka',
  'The storage layer',
  'A new customer',
  'The scheduler',
  'The migration script',
  'The on-call engineer',
  'The analytics dashboard',
  'Prof. Park',
];
const EN_VERBS = [
  'processed',
  'rejected',
  'measured',
  'reviewed',
  'deployed',
  'documented',
  'refactored',
  'cached',
  'validated',
  'replayed',
  'throttled',
  'encrypted',
  'summarised',
  'indexed',
  'retried',
];
const EN_OBJECTS = [
  'the refresh tokens',
  'about 3,000 invoices',
  'the nightly batch',
  'every webhook delivery',
  'the OAuth callback',
  'a 12.5 MB upload',
  'the audit log',
  'the failing health checks',
  'the rate limiter',
  'the release notes',
  'the workflow history',
  'two thousand requests per second',
  'the regional failover',
  'the image thumbnails',
  'the PII masking rules',
];
const EN_TAILS = [
  'before the release',
  'after the incident on 12 March',
  'without any downtime',
  'in under 40 ms at p99',
  'for the third time this week',
  'because the old schema was ambiguous',
  'while the cache was cold',
  'with help from the platform team',
  'as agreed in the design review',
  'e.g. for the EU tenants',
  'across all 14 availability zones',
  'on version 2.4.1',
];
const EN_PUNCT = ['.', '.', '.', '.', '!', '?'];

const KO_SUBJECTS = [
  '결제 서비스는',
  '보안팀은',
  '우리 팀은',
  '새로운 고객이',
  '스케줄러가',
  '배포 파이프라인이',
  '김 박사님은',
  '운영 담당자가',
  '분석 대시보드는',
  '스토리지 계층이',
  'API 게이트웨이는',
  '워커 프로세스가',
];
const KO_OBJECTS = [
  '토큰 저장 방식을',
  '야간 배치 작업을',
  '약 3,000건의 청구서를',
  '웹훅 전송을',
  '감사 로그를',
  '실패한 헬스 체크를',
  '릴리스 노트를',
  '워크플로 기록을',
  '이미지 썸네일을',
  '개인정보 마스킹 규칙을',
  'OAuth 콜백을',
  '12.5MB 업로드를',
];
const KO_ADVERBS = [
  '다음 주 수요일까지',
  '배포 전에',
  '장애가 끝난 뒤에',
  '중단 없이',
  '이번 주에만 세 번째로',
  '플랫폼 팀의 도움으로',
  '설계 검토에서 합의한 대로',
  '캐시가 비어 있는 동안',
  '모든 가용 영역에서',
];
const KO_VERBS = [
  '검토했습니다.',
  '다시 측정했어요.',
  '처리했습니다.',
  '마무리하겠습니다!',
  '암호화해야 합니다.',
  '재시도했을까요?',
  '문서로 정리했다.',
  '배포했습니다.',
  '확인해 주세요.',
  '개선했어요.',
];

const JA_SUBJECTS = [
  '決済サービスは',
  'セキュリティチームは',
  '私たちのチームは',
  '新しい顧客が',
  'スケジューラーが',
  'デプロイパイプラインが',
  '田中さんは',
  '運用担当者が',
  '分析ダッシュボードは',
  'ストレージ層が',
  'APIゲートウェイは',
];
const JA_OBJECTS = [
  'トークンの保存方法を',
  '夜間バッチを',
  '約3,000件の請求書を',
  'ウェブフックの配信を',
  '監査ログを',
  '失敗したヘルスチェックを',
  'リリースノートを',
  'ワークフローの履歴を',
  '画像のサムネイルを',
  '個人情報のマスキング規則を',
  'OAuthのコールバックを',
];
const JA_ADVERBS = [
  '来週の水曜日までに',
  'リリース前に',
  '障害の後で',
  '停止することなく',
  '今週三回目に',
  'プラットフォームチームの協力で',
  '設計レビューで合意した通り',
  'キャッシュが空の間に',
  'すべてのリージョンで',
];
const JA_VERBS = [
  '見直しました。',
  'もう一度測定しました。',
  '処理しました。',
  '仕上げます！',
  '暗号化する必要があります。',
  '再試行したのでしょうか？',
  '文書にまとめた。',
  'デプロイしました。',
  '確認してください。',
  '改善しました。',
];

/**
 * About `bytes` UTF-8 bytes of paragraphs (3–8 sentences each, blank line between), each
 * in English, Korean or Japanese (roughly 40/30/30), with numbers, decimals, abbreviations,
 * English terms inside Korean and Japanese, and a bracketed request id per paragraph.
 */
export function generateCorpus(bytes: number, seed = 7): string {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const paragraphs: string[] = [];
  let size = 0;
  let paragraph = 0;
  while (size < bytes) {
    const language = next();
    const count = 3 + Math.floor(next() * 6);
    const sentences: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const id = `#${(paragraph * 97 + index * 13) % 10_000}`;
      if (language < 0.4) {
        const clause = next() < 0.3 ? `, and ${pick(EN_SUBJECTS).toLowerCase()} agreed` : '';
        sentences.push(
          `${pick(EN_SUBJECTS)} ${pick(EN_VERBS)} ${pick(EN_OBJECTS)} ${pick(EN_TAILS)}` +
            `${clause}${index === 0 ? ` (${id})` : ''}${pick(EN_PUNCT)}`,
        );
      } else if (language < 0.7) {
        sentences.push(
          `${pick(KO_SUBJECTS)} ${pick(KO_ADVERBS)} ${pick(KO_OBJECTS)} ` +
            `${index === 0 ? `(${id}) ` : ''}${pick(KO_VERBS)}`,
        );
      } else {
        const comma = next() < 0.5 ? '、' : '';
        sentences.push(
          `${pick(JA_SUBJECTS)}${comma}${pick(JA_ADVERBS)}${pick(JA_OBJECTS)}` +
            `${index === 0 ? `（${id}）` : ''}${pick(JA_VERBS)}`,
        );
      }
    }
    const text = sentences.join(language < 0.7 ? ' ' : '');
    paragraphs.push(text);
    size += Buffer.byteLength(text, 'utf8') + 2;
    paragraph += 1;
  }
  return paragraphs.join('\n\n');
}

interface EncodingModule {
  encode(text: string, options: { disallowedSpecial: Set<string> }): number[];
  countTokens(text: string, options: { disallowedSpecial: Set<string> }): number;
}

/** A counter that records every text it counts and the time spent counting it. */
function recordingCounter(inner: TokenCounter) {
  const calls: string[] = [];
  let countMs = 0;
  const counter: TokenCounter = {
    family: inner.family,
    encoding: inner.encoding,
    exact: inner.exact,
    count(text: string): number {
      calls.push(text);
      const before = performance.now();
      const tokens = inner.count(text);
      countMs += performance.now() - before;
      return tokens;
    },
  };
  return {
    counter,
    take() {
      const result = {
        calls: calls.splice(0),
        countMs,
      };
      countMs = 0;
      return result;
    },
  };
}

function time<T>(action: () => T): { ms: number; value: T } {
  const before = performance.now();
  const value = action();
  return { ms: performance.now() - before, value };
}

function totalLength(texts: readonly string[]): number {
  return texts.reduce((sum, text) => sum + text.length, 0);
}

export function chunkingThroughput(options: ChunkingBenchOptions = CHUNKING_DEFAULTS): BenchMetric {
  return {
    name: 'chunking',
    description:
      `In process: chunkText() (ICU sentences, exact o200k_base counts through ` +
      `loadTokenCounter('${options.model}'), maxTokens ${options.maxTokens}, overlap ` +
      `${options.overlapTokens}) vs one gpt-tokenizer encode() of the same text (the ` +
      `library the counter wraps), on ~${options.corpusBytes / 1e6} MB of generated ` +
      `English/Korean/Japanese paragraphs; ${options.warmup} warm-up runs per side, then ` +
      `${options.blocks} runs per side, sides alternating, each run timed alone. ` +
      `Throughput in UTF-8 MB/s; target ours/raw ≥ ${options.targetRatio}. Then a profile ` +
      `of where chunkText's time goes.`,
    async run(context) {
      const corpus = generateCorpus(options.corpusBytes);
      const megabytes = Buffer.byteLength(corpus, 'utf8') / 1e6;
      const counter = await loadTokenCounter(options.model);
      if (!counter.exact || counter.encoding !== 'o200k_base') {
        throw new Error(`chunking: expected the exact o200k_base counter, got ${counter.encoding}`);
      }
      const api = (await import('gpt-tokenizer/encoding/o200k_base')) as EncodingModule;
      const plain = { disallowedSpecial: new Set<string>() };
      const chunkOptions = {
        maxTokens: options.maxTokens,
        overlapTokens: options.overlapTokens,
        counter,
      };

      let chunks: TextChunk[] = [];
      let tokens: number[] = [];
      const runs: Record<Side, () => void> = {
        ours: () => {
          chunks = chunkText(corpus, chunkOptions);
        },
        baseline: () => {
          tokens = api.encode(corpus, plain);
        },
      };
      for (let index = 0; index < options.warmup; index += 1) {
        for (const side of sidesInOrder(index)) runs[side]();
      }
      const samples: Record<Side, number[]> = { ours: [], baseline: [] };
      for (let block = 0; block < options.blocks; block += 1) {
        for (const side of sidesInOrder(block)) samples[side].push(time(runs[side]).ms);
      }
      const totalSeconds = (side: Side) => samples[side].reduce((sum, ms) => sum + ms, 0) / 1000;
      const throughput = (side: Side) => (megabytes * samples[side].length) / totalSeconds(side);
      const perRun = (side: Side) => samples[side].map((ms) => megabytes / (ms / 1000));
      const pairedRatios = samples.ours.map((ms, block) => samples.baseline[block]! / ms);

      // Sanity: every chunk within the budget, and the chunks cover the corpus's tokens.
      const chunkTokens = chunks.reduce((sum, chunk) => sum + chunk.tokenCount, 0);
      const overBudget = chunks.filter((chunk) => chunk.tokenCount > options.maxTokens).length;
      if (overBudget > 0) throw new Error(`chunking: ${overBudget} chunks over the budget`);

      // Profile: median over rounds of each phase, with an instrumented counter.
      const recorder = recordingCounter(counter);
      const chunkContext: ChunkContext = {
        text: corpus,
        counter: recorder.counter,
        maxTokens: options.maxTokens,
        overlapTokens: options.overlapTokens,
        locale: undefined,
      };
      const rounds = {
        encode: [] as number[],
        countWhole: [] as number[],
        chunkText: [] as number[],
        splitSentences: [] as number[],
        buildUnits: [] as number[],
        unitCountMs: [] as number[],
        allCountMs: [] as number[],
        replayCounter: [] as number[],
        replayRawCount: [] as number[],
        replayUnitsRawCount: [] as number[],
        replayLoopRawCount: [] as number[],
        replayChunkRecountRaw: [] as number[],
      };
      let unitCalls: string[] = [];
      let allCalls: string[] = [];
      let sentenceCount = 0;
      let unitCount = 0;
      for (let round = 0; round < options.profileRounds; round += 1) {
        rounds.encode.push(time(() => api.encode(corpus, plain)).ms);
        rounds.countWhole.push(time(() => counter.count(corpus)).ms);
        const sentences = time(() => splitSentences(corpus));
        rounds.splitSentences.push(sentences.ms);
        sentenceCount = sentences.value.length;
        recorder.take();
        const units = time(() => buildUnits(chunkContext));
        unitCount = units.value.length;
        rounds.buildUnits.push(units.ms);
        const unitProfile = recorder.take();
        unitCalls = unitProfile.calls;
        rounds.unitCountMs.push(unitProfile.countMs);
        rounds.chunkText.push(
          time(() => chunkText(corpus, { ...chunkOptions, counter: recorder.counter })).ms,
        );
        const allProfile = recorder.take();
        allCalls = allProfile.calls;
        rounds.allCountMs.push(allProfile.countMs);
        // The same texts, counted again: through our counter (countInSlices' pre-scan for
        // long runs + gpt-tokenizer) and straight through gpt-tokenizer's countTokens.
        rounds.replayCounter.push(
          time(() => {
            for (const text of allCalls) counter.count(text);
          }).ms,
        );
        rounds.replayRawCount.push(
          time(() => {
            for (const text of allCalls) api.countTokens(text, plain);
          }).ms,
        );
        rounds.replayUnitsRawCount.push(
          time(() => {
            for (const text of unitCalls) api.countTokens(text, plain);
          }).ms,
        );
        const roundLoopCalls = allCalls.slice(unitCalls.length);
        rounds.replayLoopRawCount.push(
          time(() => {
            for (const text of roundLoopCalls) api.countTokens(text, plain);
          }).ms,
        );
        rounds.replayChunkRecountRaw.push(
          time(() => {
            for (const chunk of chunks) api.countTokens(chunk.text, plain);
          }).ms,
        );
      }
      const m = (list: number[]) => round(median(list), 1);
      const corpusChars = corpus.length;
      const loopCalls = allCalls.slice(unitCalls.length);
      // Loop calls that re-count a final chunk, and the rest (overlap words and candidates,
      // shrink bisection).
      const chunkTexts = new Set(chunks.map((chunk) => chunk.text));
      const recountCalls = loopCalls.filter((text) => chunkTexts.has(text));
      const otherLoopCalls = loopCalls.filter((text) => !chunkTexts.has(text));
      const chunkTextMs = median(rounds.chunkText);
      const buildUnitsMs = median(rounds.buildUnits);
      const unitCountMs = median(rounds.unitCountMs);
      const allCountMs = median(rounds.allCountMs);
      const splitMs = median(rounds.splitSentences);
      const breakdown = {
        rawEncodeMs: m(rounds.encode),
        counterOnWholeCorpusMs: m(rounds.countWhole),
        chunkTextMs: m(rounds.chunkText),
        phases: {
          sentenceSegmentationMs: round(splitMs, 1),
          unitCountingMs: round(unitCountMs, 1),
          unitOtherMs: round(buildUnitsMs - splitMs - unitCountMs, 1),
          packingLoopCountingMs: round(allCountMs - unitCountMs, 1),
          packingLoopOtherMs: round(chunkTextMs - buildUnitsMs - (allCountMs - unitCountMs), 1),
        },
        counter: {
          calls: allCalls.length,
          unitCalls: unitCalls.length,
          loopCalls: loopCalls.length,
          loopChunkRecountCalls: recountCalls.length,
          loopOtherCalls: otherLoopCalls.length,
          loopChunkRecountCharsPerCorpusChar: round(totalLength(recountCalls) / corpusChars, 3),
          loopOtherCharsPerCorpusChar: round(totalLength(otherLoopCalls) / corpusChars, 3),
          charsCountedPerCorpusChar: round(totalLength(allCalls) / corpusChars, 3),
          unitCharsPerCorpusChar: round(totalLength(unitCalls) / corpusChars, 3),
          loopCharsPerCorpusChar: round(totalLength(loopCalls) / corpusChars, 3),
          allCountMs: round(allCountMs, 1),
          replayThroughCounterMs: m(rounds.replayCounter),
          replayRawCountTokensMs: m(rounds.replayRawCount),
          replayUnitsRawCountTokensMs: m(rounds.replayUnitsRawCount),
          replayLoopRawCountTokensMs: m(rounds.replayLoopRawCount),
          replayChunkRecountRawCountTokensMs: m(rounds.replayChunkRecountRaw),
          counterPreScanOverheadMs: round(
            median(rounds.replayCounter) - median(rounds.replayRawCount),
            1,
          ),
          note:
            'replay* = the recorded texts counted again after the run (warm merge cache); ' +
            'counterPreScanOverheadMs = through our counter (countInSlices long-run pre-scan) ' +
            'minus straight gpt-tokenizer countTokens on the same texts',
        },
        sentences: sentenceCount,
        units: unitCount,
        chunks: chunks.length,
        tokensInCorpus: tokens.length,
        tokensInChunks: chunkTokens,
      };

      const ours = throughput('ours');
      const raw = throughput('baseline');
      context.log(
        `chunking: ours ${ours.toFixed(2)} MB/s, raw encode ${raw.toFixed(2)} MB/s ` +
          `(${(ours / raw).toFixed(3)}×); ${chunks.length} chunks, ${tokens.length} tokens; ` +
          `profile (ms, median of ${options.profileRounds}): chunkText ${breakdown.chunkTextMs} = ` +
          `sentences ${breakdown.phases.sentenceSegmentationMs} + unit counts ` +
          `${breakdown.phases.unitCountingMs} + unit other ${breakdown.phases.unitOtherMs} + ` +
          `loop counts ${breakdown.phases.packingLoopCountingMs} + loop other ` +
          `${breakdown.phases.packingLoopOtherMs}; raw encode ${breakdown.rawEncodeMs}; ` +
          `counted ${breakdown.counter.charsCountedPerCorpusChar}× the corpus in ` +
          `${breakdown.counter.calls} calls`,
      );
      const label = `${options.maxTokens}/${options.overlapTokens} tokens, o200k_base`;
      const phaseRecord = (name: string, ms: number, details?: Record<string, unknown>) =>
        compare({
          name: `chunking profile: ${name} (baseline column = raw encode)`,
          ours: ms,
          baseline: median(rounds.encode),
          unit: 'ms',
          better: 'lower',
          ...(details ? { details } : {}),
        });
      return {
        records: [
          compare({
            name: `chunking throughput (chunkText ${label} vs gpt-tokenizer encode)`,
            ours,
            baseline: raw,
            unit: 'MB/s',
            better: 'higher',
            target: options.targetRatio,
            details: {
              corpusMegabytes: round(megabytes, 3),
              corpusChars,
              oursPerRunMBps: summarize(perRun('ours')),
              rawPerRunMBps: summarize(perRun('baseline')),
              pairedRatio: summarize(pairedRatios),
              baselineKind:
                "encode(text, { disallowedSpecial: new Set() }) from 'gpt-tokenizer/encoding/o200k_base'",
              breakdown,
            },
          }),
          phaseRecord('chunkText total', chunkTextMs),
          phaseRecord('ICU sentence segmentation', splitMs),
          phaseRecord('exact count of every unit', unitCountMs, {
            calls: unitCalls.length,
            charsPerCorpusChar: breakdown.counter.unitCharsPerCorpusChar,
          }),
          phaseRecord('packing loop: chunk re-counts, shrink, overlap', allCountMs - unitCountMs, {
            calls: loopCalls.length,
            charsPerCorpusChar: breakdown.counter.loopCharsPerCorpusChar,
          }),
          phaseRecord('everything but counting', chunkTextMs - allCountMs),
        ],
        parameters: {
          ...options,
          corpusMegabytes: round(megabytes, 3),
          timing: 'each run timed alone (performance.now); sides alternating per block',
        },
      };
    },
  };
}
