/** `patched()` ids of behaviour added after sessions were recorded (see test/replay). */
export const SESSION_PATCHES = {
  /** An input without the documented shape fails the workflow (it used to fail the task). */
  failInvalidInput: 'fail-invalid-session-input',
  /** A signal with an invalid payload is dropped (it used to reach its handler). */
  dropInvalidSignals: 'drop-invalid-signals',
  /** While waiting for input, continue as new when Temporal suggests it (many signals). */
  continueAsNewWhenIdle: 'continue-as-new-when-idle',
  /** A budget pause writes the session index, so the session-event sink (webhooks) hears of it. */
  indexBudgetPause: 'index-budget-pause',
  /** A turn's agents get the session's earlier turns; aged turns are summarised once. */
  turnMemory: 'turn-memory',
  /**
   * A turn without attachments is analysed and planned by one local activity (one marker, one
   * activation), in the `planning` phase; it used to be two, with an `analyzing` phase first.
   */
  analyzeAndPlan: 'analyze-and-plan',
  /** After a turn that ran, its memories are extracted (model or rules) and written. */
  extractTurnMemories: 'extract-turn-memories',
} as const;
