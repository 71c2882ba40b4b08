/** Entry point of the workflow bundle: every workflow type the workers register. */
export { sessionWorkflow } from './session/session-workflow';
