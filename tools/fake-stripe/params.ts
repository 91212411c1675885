// Readers for decoded form parameters: each refuses a malformed value the way Stripe does, during
// validation (nothing executed, nothing saved for the idempotency key).
import { invalidParam, missingParam, unknownParam } from './errors';
import type { FormObject, FormValue } from './form';

export type Json = Record<string, unknown>;
export type Metadata = Record<string, string>;

/** Refuses any parameter the simulator does not implement: a silent no-op would hide a mistake. */
export function allowOnly(params: FormObject, allowed: readonly string[], prefix = ''): void {
  for (const key of Object.keys(params)) if (!allowed.includes(key)) throw unknownParam(prefix ? `${prefix}[${key}]` : key);
}

export function optString(params: FormObject, name: string, label = name): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParam(label, `Invalid string: ${JSON.stringify(value)}`);
  return value;
}

export function requiredString(params: FormObject, name: string, label = name): string {
  const value = optString(params, name, label);
  if (value === undefined || value === '') throw missingParam(label);
  return value;
}

/** `email=` (empty) unsets a nullable field, as in Stripe. */
export function optNullableString(params: FormObject, name: string, label = name): string | null | undefined {
  const value = optString(params, name, label);
  return value === '' ? null : value;
}

export function parseInteger(value: FormValue | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalidParam(name, `Invalid integer: ${typeof value === 'string' ? value : JSON.stringify(value)}`, 'parameter_invalid_integer');
  }
  return Number(value);
}

export function optInteger(params: FormObject, name: string, range?: { min?: number; max?: number }, label = name): number | undefined {
  const value = parseInteger(params[name], label);
  if (value === undefined) return undefined;
  if ((range?.min !== undefined && value < range.min) || (range?.max !== undefined && value > range.max)) {
    const bounds = range.max === undefined ? `greater than or equal to ${range.min}` : `between ${range.min ?? 0} and ${range.max}`;
    throw invalidParam(label, `This value must be ${bounds}.`, 'parameter_invalid_integer');
  }
  return value;
}

export function optBoolean(params: FormObject, name: string, label = name): boolean | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw invalidParam(label, `Invalid boolean: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}

export function optEnum<T extends string>(params: FormObject, name: string, values: readonly T[], label = name): T | undefined {
  const value = optString(params, name, label);
  if (value === undefined) return undefined;
  if (!values.includes(value as T)) throw invalidParam(label, `Invalid ${label}: must be one of ${values.join(', ')}`);
  return value as T;
}

/** A nested hash parameter (`trial_settings[end_behavior][...]`), or undefined. `''` is returned as is (Stripe's "unset"). */
export function optHash(params: FormObject, name: string, label = name): FormObject | '' | undefined {
  const value = params[name];
  if (value === undefined || value === '') return value;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParam(label, 'Invalid hash', 'parameter_invalid_hash');
  return value;
}

export function optArray(params: FormObject, name: string, label = name): FormValue[] | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidParam(label, 'Invalid array', 'parameter_invalid_array');
  return value;
}

/** Stripe's metadata rules: `metadata=` clears all, `metadata[k]=` removes k; 50 keys, 40-char keys, 500-char values. */
export function applyMetadata(current: Metadata, value: FormValue | undefined, param = 'metadata'): Metadata {
  if (value === undefined) return current;
  if (value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParam(param, 'Invalid hash', 'parameter_invalid_hash');
  const next = { ...current };
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalidParam(`${param}[${key}]`, 'Metadata values must be strings');
    if (key.length > 40) throw invalidParam(`${param}[${key}]`, 'Metadata keys can be at most 40 characters long.');
    if (v.length > 500) throw invalidParam(`${param}[${key}]`, 'Metadata values can be at most 500 characters long.');
    if (v === '') delete next[key];
    else next[key] = v;
  }
  if (Object.keys(next).length > 50) throw invalidParam(param, 'Metadata can have at most 50 keys.');
  return next;
}

export function expandList(params: FormObject): string[] {
  const value = params.expand;
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) throw invalidParam('expand', 'Invalid array');
  return list;
}

/** A `created`-style filter: an exact unix time or `{gt,gte,lt,lte}`. */
export function optRange(params: FormObject, name: string): ((value: number) => boolean) | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    const exact = parseInteger(value, name) as number;
    return (v) => v === exact;
  }
  if (Array.isArray(value)) throw invalidParam(name, 'Invalid hash', 'parameter_invalid_hash');
  allowOnly(value, ['gt', 'gte', 'lt', 'lte'], name);
  const bound = (key: string) => parseInteger(value[key], `${name}[${key}]`);
  const [gt, gte, lt, lte] = [bound('gt'), bound('gte'), bound('lt'), bound('lte')];
  return (v) => (gt === undefined || v > gt) && (gte === undefined || v >= gte) && (lt === undefined || v < lt) && (lte === undefined || v <= lte);
}
