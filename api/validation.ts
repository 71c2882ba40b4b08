import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { describeZodIssues } from '../core/plan';
import { problems } from './problem';

/** What a `validate()` middleware checks: the OpenAPI document reads it from the route. */
export interface RouteValidation {
  target: keyof ValidationTargets;
  schema: z.ZodType;
}

const validations = new WeakMap<object, RouteValidation>();

/** The request part and schema `handler` validates, if it is a `validate()` middleware. */
export function validationOf(handler: unknown): RouteValidation | undefined {
  return typeof handler === 'function' ? validations.get(handler) : undefined;
}

/** zod validation of one request part; failures are 400 problems listing every issue. */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = describeZodIssues(result.error);
      throw problems.badRequest(`invalid ${target}: ${errors.join('; ')}`, { errors });
    }
  });
  validations.set(middleware, { target, schema });
  return middleware;
}
