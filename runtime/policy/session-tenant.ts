/**
 * The tenant of the session an activity works for, read from the workflow's `tenant` search
 * attribute (set by the API when it starts the session) through the worker's own client. For
 * activities whose input does not name the tenant (planning), so they read the agent catalog
 * that tenant sees. Cached per workflow id (a session's tenant never changes); undefined
 * outside an activity, without a client, or when the attribute is not set (yet).
 */
import { Context } from '@temporalio/activity';
import { SEARCH_ATTRIBUTES } from '../../core/names';

const MAX_CACHED = 10_000;
const tenants = new Map<string, string>();

export async function currentSessionTenant(): Promise<string | undefined> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return undefined;
  }
  const workflowId = context.info.workflowExecution?.workflowId;
  if (!workflowId) return undefined;
  const cached = tenants.get(workflowId);
  if (cached !== undefined) return cached;
  try {
    const description = await context.client.workflow.getHandle(workflowId).describe();
    const tenant = description.typedSearchAttributes.get(SEARCH_ATTRIBUTES.tenant);
    if (typeof tenant !== 'string' || !tenant) return undefined;
    if (tenants.size >= MAX_CACHED) tenants.delete(tenants.keys().next().value as string);
    tenants.set(workflowId, tenant);
    return tenant;
  } catch {
    return undefined;
  }
}
