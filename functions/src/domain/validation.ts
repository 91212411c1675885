import type { z } from 'zod';
import { DomainError } from './errors';

/**
 * Parses `input` or throws one invalid-argument error whose message names every bad field. Its details
 * carry `fields` (the paths) and `fieldErrors` (path → message), so a form can show each next to its field.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const fieldErrors: Record<string, string> = {};
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : 'request';
    // The first problem of a field is the one to fix first.
    fieldErrors[field] ??= issue.message;
    return `${field}: ${issue.message}`;
  });
  throw new DomainError('invalid-argument', problems.join('; '), {
    fields: parsed.error.issues.map((issue) => issue.path.join('.')),
    fieldErrors,
  });
}
