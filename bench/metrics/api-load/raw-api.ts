/**
 * The baseline of the API load test: a bare Hono app that calls the Temporal client the way our
 * session routes do, with nothing else — no auth, validation, access control, quotas, index,
 * audit or logging. `GET /v1/sessions/:id` is one describe, `GET /v1/sessions` one visibility
 * page of the tenant's workflows, `POST /v1/sessions` one workflow start.
 */
import { Hono } from 'hono';
import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../../core/names';
import { newSessionId } from '../../../runtime/session-ids';
import { RAW_WORKFLOW_TYPE } from '../../raw/workflow-types';

export interface RawApiOptions {
  client: Client;
  /** Listed by `GET /v1/sessions` (its `TDevTenant` search attribute). */
  tenantId: string;
  /** Where `POST /v1/sessions` starts its workflow. */
  taskQueue: string;
  /** Rows of a listing (our API's default page size). */
  pageSize: number;
}

export function rawApi(options: RawApiOptions): Hono {
  const { client } = options;
  const listQuery = `${SEARCH_ATTRIBUTES.tenant.name}='${options.tenantId}'`;
  return new Hono()
    .get('/v1/sessions/:id', async (context) => {
      const description = await client.workflow.getHandle(context.req.param('id')).describe();
      return context.json({
        workflowId: description.workflowId,
        runId: description.runId,
        status: description.status.name,
        historyLength: description.historyLength,
      });
    })
    .get('/v1/sessions', async (context) => {
      const sessions: { workflowId: string; status: string }[] = [];
      for await (const execution of client.workflow.list({
        query: listQuery,
        pageSize: options.pageSize,
      })) {
        sessions.push({ workflowId: execution.workflowId, status: execution.status.name });
        if (sessions.length >= options.pageSize) break;
      }
      return context.json({ sessions });
    })
    .post('/v1/sessions', async (context) => {
      await context.req.json();
      const workflowId = newSessionId();
      await client.workflow.start(RAW_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: options.taskQueue,
        args: [1],
      });
      return context.json({ sessionId: workflowId }, 201);
    });
}
