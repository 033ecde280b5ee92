/**
 * The JSON Schemas in manifests/ are generated from the zod sources in core/ (scripts/schemas.mjs). This
 * keeps the committed files equal to a fresh generation (a drift test: run `npm run build` and commit
 * the result when it fails), and checks that the generated manifest schema accepts the hello example and
 * refuses what JSON Schema can express. Refines (a semver version or range, engines "*") cannot be
 * expressed in JSON Schema; for those the zod schema the kernel uses is the check, and that is asserted.
 * The `.d.ts` files generated beside them get the same drift check, and tsc checks the hello manifest
 * against them as a package consumer imports them (`caduceus/manifests/<name>.v1.js`).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { tsProject } from '../helpers/tsc.js';

const { generateSchemas, generateTypes } = await import(join(ROOT, 'scripts/schemas.mjs')) as {
  generateSchemas: (root: string) => Promise<Record<string, object>>;
  generateTypes: (root: string) => Promise<Record<string, string>>;
};
const { manifestSchema } = await import(join(ROOT, 'dist/core/manifest/schema.js')) as { manifestSchema: { safeParse: (v: unknown) => { success: boolean } } };

type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; keyword: string }[] | null };
const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default as new (opts: object) => { compile: (schema: object) => Validate };

const MANIFESTS = join(ROOT, 'manifests');
const HELLO_FILE = join(ROOT, 'examples/hello/caduceus.plugin.json');
const hello = (): Record<string, any> => JSON.parse(readFileSync(HELLO_FILE, 'utf8'));
const generated = await generateSchemas(ROOT);
const generatedTypes = await generateTypes(ROOT);

function compile(file: string): Validate {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.compile(JSON.parse(readFileSync(join(MANIFESTS, file), 'utf8')));
}

describe('manifests/ against a fresh generation from core/ (drift)', () => {
  it('holds exactly the generated schema files', () => {
    expect(readdirSync(MANIFESTS).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(generated).sort());
  });

  for (const [file, schema] of Object.entries(generated)) {
    it(`${file} equals a fresh generation byte for byte`, () => {
      const committed = readFileSync(join(MANIFESTS, file), 'utf8');
      expect(committed, `manifests/${file} is out of date with core/; run \`npm run build\` and commit it`).toBe(`${JSON.stringify(schema, null, 2)}\n`);
    });
  }
});

describe('the generated manifest schema', () => {
  const validate = compile('plugin-manifest.v1.schema.json');

  it('is the one examples/hello points at with $schema', () => {
    const ref = hello().$schema as string;
    expect(existsSync(join(dirname(HELLO_FILE), ref)), ref).toBe(true);
    expect(join(dirname(HELLO_FILE), ref)).toBe(join(MANIFESTS, 'plugin-manifest.v1.schema.json'));
  });

  it('validates examples/hello/caduceus.plugin.json', () => {
    expect(validate(hello()), JSON.stringify(validate.errors)).toBe(true);
    expect(manifestSchema.safeParse(hello()).success).toBe(true);
  });

  it('validates each hello tool against the generated tool descriptor schema', () => {
    const tool = compile('tool-descriptor.v1.schema.json');
    const tools = hello().contributes.tools as object[];
    expect(tools.length).toBeGreaterThan(0);
    for (const t of tools) expect(tool(t), JSON.stringify(tool.errors)).toBe(true);
  });

  // Each case breaks one field in a way JSON Schema can express; the kernel's zod schema must agree.
  const cases: [string, (m: Record<string, any>) => void, string][] = [
    ['an id with uppercase letters', (m) => { m.id = 'Hello'; }, '/id'],
    ['manifestVersion 2', (m) => { m.manifestVersion = 2; }, '/manifestVersion'],
    ['a tool name with a space', (m) => { m.contributes.tools[0].name = 'hello greet'; }, '/contributes/tools/0/name'],
    ['a tool name over 64 characters', (m) => { m.contributes.tools[0].name = 'x'.repeat(65); }, '/contributes/tools/0/name'],
    ['a missing configSchema', (m) => { delete m.configSchema; }, ''],
    ['an unknown top-level key', (m) => { m.colour = 'red'; }, ''],
    ['an empty engines.caduceus', (m) => { m.engines.caduceus = ''; }, '/engines/caduceus'],
    ['a permissions entry that is not a string', (m) => { m.permissions = [42]; }, '/permissions/0'],
    ['sandbox.memoryMb over 1024', (m) => { m.sandbox = { memoryMb: 4096 }; }, '/sandbox/memoryMb'],
  ];
  for (const [what, mutate, path] of cases) {
    it(`rejects ${what}`, () => {
      const m = hello();
      mutate(m);
      expect(validate(m)).toBe(false);
      expect(validate.errors!.map((e) => e.instancePath)).toContain(path);
      expect(manifestSchema.safeParse(m).success).toBe(false);
    });
  }

  it('leaves engines "*" and a non-semver version to the kernel, whose zod schema refuses them', () => {
    // JSON Schema cannot carry these refines, so no assertion is made on what it says about them.
    const star = hello();
    star.engines.caduceus = '*';
    expect(manifestSchema.safeParse(star).success).toBe(false);
    const shortVersion = hello();
    shortVersion.version = '1.0';
    expect(manifestSchema.safeParse(shortVersion).success).toBe(false);
  });
});

describe('manifests/*.d.ts against a fresh generation (drift)', () => {
  it('holds one declaration file per schema, and only those', () => {
    expect(readdirSync(MANIFESTS).filter((f) => f.endsWith('.d.ts')).sort()).toEqual(Object.keys(generatedTypes).sort());
    expect(Object.keys(generatedTypes).sort()).toEqual(Object.keys(generated).map((f) => f.replace(/\.schema\.json$/, '.d.ts')).sort());
  });

  for (const [file, text] of Object.entries(generatedTypes)) {
    it(`${file} equals a fresh generation byte for byte`, () => {
      expect(readFileSync(join(MANIFESTS, file), 'utf8'), `manifests/${file} is out of date with core/; run \`npm run build\` and commit it`).toBe(text);
    });
  }

  it('types examples/hello as a PluginManifest, its tools as ToolDescriptors, through the package exports', () => {
    const project = tsProject();
    try {
      const m = JSON.stringify(hello(), null, 2);
      project.write('ok.ts', `import type { PluginManifest } from 'caduceus/manifests/plugin-manifest.v1.js';
import type { ToolDescriptor } from 'caduceus/manifests/tool-descriptor.v1.js';
import type { AuditEvent } from 'caduceus/manifests/audit-event.v1.js';
export const manifest: PluginManifest = ${m};
export const tools: ToolDescriptor[] = manifest.contributes?.tools ?? [];
export const event: AuditEvent = { ts: 1, kind: 'tool.call', outcome: 'ok', tool: 'hello_greet' };
`);
      project.write('bad.ts', `import type { PluginManifest } from 'caduceus/manifests/plugin-manifest.v1.js';
export const manifest: PluginManifest = { ...${m}, manifestVersion: 2 };
`);
      const r = project.check(['ok.ts', 'bad.ts'], { libCheck: true });
      expect(r.errors.filter((e) => !e.startsWith('bad.ts')), r.output).toEqual([]);
      expect(r.errors, r.output).toEqual([expect.stringMatching(/^bad\.ts\(\d+,\d+\): error TS2322: Type '2' is not assignable to type '1'\./)]);
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  });
});
