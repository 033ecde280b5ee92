/**
 * JSON Schema validation on the host, compiled once per schema and cached. ajv is loaded on first use
 * so commands that never validate (listings) do not pay for it.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction, ErrorObject } from 'ajv';

type AjvInstance = { compile: (schema: object) => ValidateFunction };
let ajv: AjvInstance | undefined;
const cache = new WeakMap<object, ValidateFunction>();

function instance(): AjvInstance {
  if (!ajv) {
    const require = createRequire(import.meta.url);
    const Ajv = require('ajv').default as new (opts: object) => AjvInstance;
    ajv = new Ajv({ strict: false, allErrors: false, useDefaults: true, coerceTypes: false, validateFormats: false });
  }
  return ajv;
}

export function compileSchema(schema: object): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = instance().compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

/** One line naming the field, the offending rule and what was expected. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'does not match the schema';
  const where = e.instancePath ? `field '${e.instancePath.slice(1).replace(/\//g, '.')}'` : 'the arguments';
  if (e.keyword === 'required') return `${where} ${e.instancePath ? 'is' : 'are'} missing required property '${(e.params as { missingProperty: string }).missingProperty}'`;
  if (e.keyword === 'additionalProperties') return `${where} ${e.instancePath ? 'has' : 'have'} unknown property '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  return `${where} ${e.message ?? 'is invalid'}`;
}
