/**
 * The baseline's activities: plain Temporal with nothing of ours in the way. `noop` does no
 * work, takes nothing and returns nothing, so a step costs only what Temporal itself costs.
 */
export function createRawActivities() {
  return {
    /** Returns at once. */
    async noop(): Promise<void> {},
  };
}

export type RawActivities = ReturnType<typeof createRawActivities>;
