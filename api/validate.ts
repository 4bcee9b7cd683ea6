import type { z } from 'zod';
import { ValidationError } from './errors';

/** zod at the edge: the parsed value, or a ValidationError (422) whose issues name `where` and the field. */
export function parse<S extends z.ZodType>(where: 'params' | 'query' | 'body', schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw ValidationError.fromZod(where, result.error);
  return result.data;
}
