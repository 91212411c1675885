// Stripe's wire format: form-encoded bodies and query strings with bracket notation
// (`metadata[tenantId]=t1`, `items[0][price]=price_x`, `expand[]=customer`).

/** A decoded parameter tree: every leaf is a string, as on the wire. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export class FormError extends Error {
  constructor(
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

// Keys that would reach Object.prototype if used as plain property names.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
// Hashes whose keys are the caller's own (metadata) never turn into arrays, even with numeric keys.
const FREE_FORM = new Set(['metadata']);

/** Splits `items[0][price]` into `['items', '0', 'price']`; `expand[]` gives `['expand', '']`. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open === -1) return [key];
  const parts = [key.slice(0, open)];
  const rest = key.slice(open);
  const segment = /\[([^\[\]]*)\]/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = segment.exec(rest)) !== null) {
    parts.push(match[1]);
    consumed = segment.lastIndex;
  }
  if (consumed !== rest.length) throw new FormError(`Invalid parameter name: ${key}`, key);
  return parts;
}

/** Decodes `a[b][0]=x&a[c][]=y` into `{ a: { b: ['x'], c: ['y'] } }`. Repeated plain keys: the last wins. */
export function parseForm(encoded: string): FormObject {
  const root: Record<string, unknown> = Object.create(null);
  for (const [key, value] of new URLSearchParams(encoded)) {
    const parts = splitKey(key);
    if (parts[0] === '') throw new FormError(`Invalid parameter name: ${key}`, key);
    let node = root;
    for (let i = 0; i < parts.length; i += 1) {
      let part = parts[i];
      if (FORBIDDEN.has(part)) throw new FormError(`Invalid parameter name: ${key}`, key);
      if (part === '') part = String(Object.keys(node).length); // `[]` appends
      const last = i === parts.length - 1;
      if (last) {
        if (typeof node[part] === 'object') throw new FormError(`Conflicting values for parameter: ${key}`, key);
        node[part] = value;
      } else {
        const child = node[part];
        if (typeof child === 'string') throw new FormError(`Conflicting values for parameter: ${key}`, key);
        if (child === undefined) node[part] = Object.create(null);
        node = node[part] as Record<string, unknown>;
      }
    }
  }
  return toPlain(root, '') as FormObject;
}

/** Hashes keyed 0..n-1 become arrays (the SDK sends arrays as `x[0]`, `x[1]`), except free-form ones. */
function toPlain(value: unknown, name: string): FormValue {
  if (typeof value === 'string') return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const plain: Record<string, FormValue> = {};
  for (const key of keys) plain[key] = toPlain(record[key], key);
  const indexed = keys.length > 0 && !FREE_FORM.has(name) && keys.every((k) => /^(0|[1-9]\d*)$/.test(k));
  if (!indexed) return plain;
  const indices = keys.map(Number).sort((a, b) => a - b);
  if (indices.some((n, i) => n !== i)) return plain;
  return indices.map((n) => plain[String(n)]);
}

/** A stable text for comparing two parameter sets regardless of key order (Stripe compares parameters, not bytes). */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
