export {
  MESSAGE_OVERHEAD_TOKENS,
  assembleContext,
  type AssembledContext,
  type ContextLimits,
  type ContextSources,
} from './context-packer';
export { CUT_MARKER, MIN_CUT_TOKENS } from './section-packing';
