/** Workflow type name of the baseline (the exported function in raw-workflows.ts). */
export const RAW_WORKFLOW_TYPE = 'rawSequentialWorkflow';
