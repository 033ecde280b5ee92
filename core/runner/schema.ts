/**
 * Tool schemas as a provider accepts them. Every provider gets the bookkeeping keywords removed
 * (`$schema`, `$id`, `$comment`); a provider that rejects more (declared in its manifest as
 * `schemaKeywordsUnsupported`, e.g. `format` or `additionalProperties`) gets those removed too. The walk
 * knows which keys hold schemas and which hold names, so a property that happens to be called `format`
 * survives.
 */

const ALWAYS = ['$schema', '$id', '$comment'];
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'additionalItems']);
const SCHEMA_LISTS = new Set(['anyOf', 'allOf', 'oneOf', 'prefixItems']);

export function sanitizeSchema(schema: Record<string, unknown>, unsupported: readonly string[] = []): Record<string, unknown> {
  const drop = new Set([...ALWAYS, ...unsupported]);
  const out = walk(schema, drop, 0) as Record<string, unknown>;
  if (out.type === 'object' && out.properties === undefined) out.properties = {};
  return out;
}

function walk(node: unknown, drop: Set<string>, depth: number): unknown {
  if (depth > 64 || node === null || typeof node !== 'object') return node;
  if (Array.isArray(node)) return node.map((n) => walk(n, drop, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (drop.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, s]) => [name, walk(s, drop, depth + 1)]));
    } else if (SCHEMA_VALUES.has(key) || SCHEMA_LISTS.has(key)) out[key] = walk(value, drop, depth + 1);
    else out[key] = value;
  }
  return out;
}
