// Generates the JSON Schemas in manifests/ from the zod sources in core/ (via dist/). Used by the build
// and by the drift test, which compares the committed files with a fresh generation.
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export async function generateSchemas(root) {
  const { z } = await import('zod');
  const { manifestSchema, toolDescriptorSchema, MANIFEST_VERSION } = await import(join(root, 'dist/core/manifest/schema.js'));
  const { auditEventSchema } = await import(join(root, 'dist/core/audit-schema.js'));
  const make = (schema, id, title) => ({
    $id: `https://caduceus.dev/schemas/${id}`,
    title,
    ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }),
  });
  return {
    [`plugin-manifest.v${MANIFEST_VERSION}.schema.json`]: make(manifestSchema, `plugin-manifest.v${MANIFEST_VERSION}.json`, 'Caduceus plugin manifest (caduceus.plugin.json)'),
    [`tool-descriptor.v${MANIFEST_VERSION}.schema.json`]: make(toolDescriptorSchema, `tool-descriptor.v${MANIFEST_VERSION}.json`, 'Caduceus tool descriptor'),
    [`audit-event.v1.schema.json`]: make(auditEventSchema, 'audit-event.v1.json', 'Caduceus audit event'),
  };
}

export async function writeSchemas(root) {
  const dir = join(root, 'manifests');
  mkdirSync(dir, { recursive: true });
  const changed = [];
  for (const [file, schema] of Object.entries(await generateSchemas(root))) {
    const text = `${JSON.stringify(schema, null, 2)}\n`;
    const path = join(dir, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) {
      writeFileSync(path, text);
      changed.push(file);
    }
  }
  return changed;
}
