/** Entry point of the workflow bundle: every workflow type the workers register. */
export { sessionWorkflow } from './session/session-workflow';
export { webhookDeliveryWorkflow } from './webhooks/webhook-delivery-workflow';
export { collectionWorkflow } from './collection/collection-workflow';
