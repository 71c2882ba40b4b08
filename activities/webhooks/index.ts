export {
  WEBHOOK_REFUSED,
  createWebhookActivities,
  type WebhookActivities,
  type WebhookActivityDependencies,
} from './deliver-webhook';
export {
  createSessionEventSink,
  deliveryWorkflowId,
  type SessionEventSink,
  type SessionEventSinkOptions,
} from './session-event-sink';
