/** Workflow type names of the baseline (the exported functions in raw-workflows.ts). */
export const RAW_WORKFLOW_TYPE = 'rawSequentialWorkflow';
export const RAW_PARALLEL_CHAINS_WORKFLOW_TYPE = 'rawParallelChainsWorkflow';
export const RAW_IDLE_WORKFLOW_TYPE = 'rawIdleWorkflow';
