/**
 * Readable messages for the errors of the ahead-of-time compiled validators
 * (`electron/generated/`, from `validator-schemas.ts`): the field as a reader writes it
 * (`capabilities.bounding[0]`, `params.env.LANG`) and the reason in words (`must be a string,
 * got number`, `is missing`, `has more than 8192 items`).
 *
 * A schema may carry `reason` on a field: the whole rule in words (`must be an array of 1 to 256
 * strings`), said instead of the keyword that failed, also when the field is missing. The bad
 * value and the failing schema are looked up from the error's pointers into the document and the
 * schema, so the generated validators need not carry them (ajv's `verbose`).
 */
import type { ErrorObject } from 'ajv';

/** One schema error, said for a reader. */
export interface SchemaProblem {
  /** The field, dotted from the document's root (`''` for the root itself). */
  path: string;
  /** What is wrong with it. */
  reason: string;
}

/** `/a/b/0/c` → `a.b[0].c`: a JSON pointer in the dotted form the error messages use. */
export function dottedPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(part)) out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** What `pointer` (a JSON pointer, or a schema path `#/…`) points at in `root`, if anything. */
export function atPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const raw of pointer.replace(/^#/, '').split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** `a`/`an` + the JSON type, `null` and `array` by name: what a value is, for "got …". */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function withArticle(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function quote(value: unknown): string {
  return JSON.stringify(typeof value === 'string' ? value.slice(0, 40) : value);
}

/** The value itself when it is a string (cut short), else its kind. */
function got(value: unknown): string {
  return typeof value === 'string' ? quote(value) : kindOf(value);
}

function schemaReason(schema: unknown): string | undefined {
  const reason = (schema as { reason?: unknown } | undefined)?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Says what `error` found wrong in `document`, validated against `schema` (the root schema, for
 * the fields' `reason`). The first error of a failed validation is the one to report: the
 * validators stop at it.
 */
export function describeSchemaError(
  error: ErrorObject,
  document: unknown,
  schema?: object,
): SchemaProblem {
  const path = dottedPath(error.instancePath);
  const p = error.params as Record<string, unknown>;
  const data = error.data ?? atPointer(document, error.instancePath);
  const parentSchema =
    error.parentSchema ??
    (schema ? atPointer(schema, error.schemaPath.replace(/\/[^/]*$/, '')) : undefined);
  if (error.keyword === 'required') {
    const key = String(p.missingProperty);
    const field = (parentSchema as { properties?: Record<string, unknown> } | undefined)
      ?.properties?.[key];
    return { path: join(path, key), reason: schemaReason(field) ?? 'is missing' };
  }
  if (error.keyword === 'additionalProperties') {
    return { path, reason: `has an unknown key ${quote(p.additionalProperty)}` };
  }
  const reason = schemaReason(parentSchema);
  if (reason !== undefined) return { path, reason };
  if (error.propertyName !== undefined) {
    // A key that breaks `propertyNames`: say which, and the rule it breaks.
    const inner = describeSchemaError({ ...error, propertyName: undefined }, error.propertyName);
    return { path, reason: `has a key ${quote(error.propertyName)} that ${inner.reason}` };
  }
  switch (error.keyword) {
    case 'type': {
      const types = (Array.isArray(p.type) ? p.type : String(p.type).split(',')) as string[];
      const words = types.map((t) => (t === 'null' ? 'null' : withArticle(t))).join(' or ');
      return { path, reason: `must be ${words}, got ${kindOf(data)}` };
    }
    case 'maxLength':
      return { path, reason: `is longer than ${String(p.limit)}` };
    case 'minLength':
      return { path, reason: `is shorter than ${String(p.limit)}` };
    case 'maxItems':
      return { path, reason: `has more than ${String(p.limit)} items` };
    case 'minItems':
      return { path, reason: `has fewer than ${String(p.limit)} items` };
    case 'maxProperties':
      return { path, reason: `has more than ${String(p.limit)} keys` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, reason: `must be ${String(p.comparison)} ${String(p.limit)}` };
    case 'enum':
      return {
        path,
        reason: `must be ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(' or ')}, got ${got(data)}`,
      };
    case 'const':
      return { path, reason: `must be ${JSON.stringify(p.allowedValue)}, got ${got(data)}` };
    default:
      return { path, reason: error.message ?? 'is invalid' };
  }
}
