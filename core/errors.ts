/**
 * The error taxonomy, typed once. Activities throw `ApplicationFailure`s with these types;
 * the workflow's retry policies list the non-retryable ones; the API maps them to HTTP.
 */
export const ERROR_TYPES = {
  /** The request or an input is invalid; retrying cannot help. */
  invalidInput: 'InvalidInput',
  /**
   * The session workflow's start input, or a signal or update payload, does not have the
   * documented shape (e.g. started from the Web UI or the `temporal` CLI with a wrong
   * `--input`); the message and the failure's first detail list every problem with its path.
   * Raised by the workflow itself, never by an activity, so not in the retry policies' list.
   */
  invalidSessionInput: 'InvalidSessionInput',
  /** A plan failed validation (unknown agent, cycle, dangling dependency, too large). */
  planInvalid: 'PlanInvalid',
  /** The planner model's output stayed invalid after one repair attempt (`PLANNER_MODE=llm`). */
  plannerOutputInvalid: 'PlannerOutputInvalid',
  /** The model provider rejected the credentials or the caller lacks access. */
  modelAccessDenied: 'ModelAccessDenied',
  /** The model provider rejected the request as malformed. */
  modelRequestInvalid: 'ModelRequestInvalid',
  /** The model id does not exist for this provider or account. */
  modelNotFound: 'ModelNotFound',
  /** The prompt (plus the requested output) does not fit the model's context window. */
  modelContextOverflow: 'ModelContextOverflow',
  /** The provider's safety system refused the request or filtered the answer. */
  modelContentPolicy: 'ModelContentPolicy',
  /** The provider's circuit breaker is open: no call was made (move to the next model). */
  providerUnavailable: 'ProviderUnavailable',
  /** An agent step failed after its retries; carried as the session's failure. */
  sessionFailed: 'SessionFailed',
} as const;

export type ErrorType = (typeof ERROR_TYPES)[keyof typeof ERROR_TYPES];

/** Error types that Temporal must never retry. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorType[] = [
  ERROR_TYPES.invalidInput,
  ERROR_TYPES.planInvalid,
  ERROR_TYPES.plannerOutputInvalid,
  ERROR_TYPES.modelAccessDenied,
  ERROR_TYPES.modelRequestInvalid,
  ERROR_TYPES.modelNotFound,
  ERROR_TYPES.modelContextOverflow,
  ERROR_TYPES.modelContentPolicy,
  ERROR_TYPES.providerUnavailable,
];
