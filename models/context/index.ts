export {
  CUT_MARKER,
  MESSAGE_OVERHEAD_TOKENS,
  MIN_CUT_TOKENS,
  assembleContext,
  type AssembledContext,
  type ContextLimits,
  type ContextSources,
} from './context-packer';
