/**
 * A deliberately changed session workflow for the negative replay test: it waits one second
 * before doing what the real workflow does, so its first command differs from every recorded
 * history. Replaying the histories with it must fail with a determinism violation.
 */
import { sleep } from '@temporalio/workflow';
import type { SessionInput, SessionResult } from '../../../core/session';
import { sessionWorkflow as realSessionWorkflow } from '../../../workflows/session/session-workflow';

export async function sessionWorkflow(input: SessionInput): Promise<SessionResult> {
  await sleep('1s');
  return realSessionWorkflow(input);
}
