/**
 * The session's memory of its earlier turns, kept up to date at the start of each turn
 * (issue 15, item 1): turns that left the verbatim window are summarised once by the
 * `summarizeTurn` activity (the rule-based summary when it fails), and the turn's agent steps
 * get the earlier turns (see `agentStepInputFor`). New behaviour behind `patched()`: a run
 * recorded before it never summarises and hands its agents no history.
 */
import { ActivityFailure, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../../activities';
import { ruleRecapOf, turnsToSummarise, type TurnRecap } from '../../core/session';
import { turnRecap } from '../activity-profiles';
import type { Session } from './session';
import { SESSION_PATCHES } from './session-patches';

/**
 * Turns memory on for the current turn when the session has earlier turns (asked only then,
 * so single-turn sessions write no marker) and makes the summaries that are missing, oldest
 * first. A cancellation rejects; any other failure of the activity leaves the rules' summary.
 */
export async function rememberEarlierTurns(session: Session): Promise<void> {
  if (session.history.length === 0 || !patched(SESSION_PATCHES.turnMemory)) return;
  session.enableTurnMemory();
  for (const turn of turnsToSummarise(session.history)) {
    let recap: TurnRecap;
    try {
      // A readable activity id (the turn that asks, and the turn summarised) for the Web UI.
      const { summarizeTurn } = proxyActivities<SessionActivities>({
        ...turnRecap,
        activityId: `turn-${session.turn}/memory-turn-${turn.turn}`,
        summary: `summarise turn ${turn.turn} for later turns`,
        priority: { fairnessKey: session.input.tenantId },
      });
      recap = await summarizeTurn({
        sessionId: session.input.sessionId,
        tenantId: session.input.tenantId,
        turn,
      });
    } catch (error) {
      if (isCancellation(error) || !(error instanceof ActivityFailure)) throw error;
      recap = ruleRecapOf(turn);
    }
    session.setRecap(turn.turn, recap);
  }
}
