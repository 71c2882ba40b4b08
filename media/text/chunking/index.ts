export { chunkText, type ChunkTextOptions, type TextChunk } from './chunk-text';
export { splitSentences, type TextSpan } from './split-sentences';
export { clauseSpans, codePointSpans, wordSpans } from './finer-spans';
export { graphemeBoundaryAfter, graphemeBoundaryAtOrBefore, segmentRange } from './segments';
