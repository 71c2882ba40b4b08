import { zValidator } from '@hono/zod-validator';
import type { ValidationTargets } from 'hono';
import type { z } from 'zod';
import { describeZodIssues } from '../core/plan';
import { problems } from './problem';

/** zod validation of one request part; failures are 400 problems listing every issue. */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const errors = describeZodIssues(result.error);
      throw problems.badRequest(`invalid ${target}: ${errors.join('; ')}`, { errors });
    }
  });
}
