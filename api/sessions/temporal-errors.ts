import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { problems, type ProblemError } from '../problem';

/**
 * Maps an error from the Temporal client to a problem: unknown workflow → 404; server
 * unreachable or too slow → 503 with a clear message. Returns undefined for anything else.
 */
export function temporalProblem(error: unknown, address: string): ProblemError | undefined {
  if (error instanceof WorkflowNotFoundError) return problems.notFound('no such session');
  const grpc = grpcCode(error);
  if (grpc === GrpcStatus.NOT_FOUND) return problems.notFound('no such session');
  if (
    grpc === GrpcStatus.UNAVAILABLE ||
    grpc === GrpcStatus.DEADLINE_EXCEEDED ||
    (error instanceof Error &&
      /connect|Failed to connect|ECONNREFUSED/i.test(error.message) &&
      error instanceof ServiceError)
  ) {
    return problems
      .unavailable(
        `Temporal is unavailable at ${address}; the request was not applied, retry later`,
      )
      .withHeaders({ 'Retry-After': '5' });
  }
  return undefined;
}

function grpcCode(error: unknown): number | undefined {
  if (isGrpcServiceError(error)) return error.code;
  if (error instanceof ServiceError && isGrpcServiceError(error.cause)) return error.cause.code;
  if (error instanceof Error && isGrpcServiceError(error.cause)) return error.cause.code;
  return undefined;
}
