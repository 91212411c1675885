import type { z } from 'zod';
import { DomainError } from './errors';

/** Parses `input` or throws one invalid-argument error whose message names every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : 'request';
    return `${field}: ${issue.message}`;
  });
  throw new DomainError('invalid-argument', problems.join('; '), {
    fields: parsed.error.issues.map((issue) => issue.path.join('.')),
  });
}
