/**
 * `caduceus plugin new <name>`: writes a plugin folder that builds, installs, runs and passes its own
 * test without edits. The folder is written in a staging directory beside the target and renamed into
 * place, so a failure leaves nothing behind and an existing folder is never overwritten.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { CaduceusError } from '../core/errors.js';
import { CADUCEUS_VERSION, PACKAGE_ROOT } from '../core/version.js';

const PLUGIN_ID = /^[a-z][a-z0-9-]{0,63}$/;

export interface ScaffoldResult {
  id: string;
  dir: string;
  tool: string;
  files: string[];
}

/**
 * Creates a plugin folder named after the plugin id (or at `opts.dir`).
 *
 * @example
 * ```ts
 * const r = scaffoldPlugin('weather');
 * // r.dir = ./weather, r.tool = 'weather_greet'
 * ```
 */
export function scaffoldPlugin(name: string, opts: { dir?: string; description?: string } = {}): ScaffoldResult {
  const id = basename(name);
  if (!PLUGIN_ID.test(id)) {
    throw new CaduceusError('CAD_ERR_SCAFFOLD_NAME',
      `Plugin name ${JSON.stringify(id)} is not a valid plugin id: use lowercase letters, digits and dashes, starting with a letter, at most 64 characters (e.g. "weather" or "my-tools").`);
  }
  const dir = resolve(opts.dir ?? name);
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new CaduceusError('CAD_ERR_SCAFFOLD_EXISTS', `Folder '${dir}' already exists and is not empty; nothing was written. Choose another name, or pass --dir <empty folder>.`, { plugin: id });
  }
  const tool = `${id.replace(/-/g, '_')}_greet`.slice(0, 64);
  const files = templates(id, tool, opts.description ?? `The ${id} plugin for Caduceus.`);
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(join(dirname(dir), `.${id}-scaffold-`));
  try {
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(dirname(join(staging, rel)), { recursive: true });
      writeFileSync(join(staging, rel), text);
    }
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  return { id, dir, tool, files: Object.keys(files) };
}

/**
 * Where the plugin's `caduceus` dev dependency comes from: the registry when this Caduceus was itself
 * installed from it, otherwise (a git checkout) this very folder, so `npm install` works offline.
 */
function caduceusSpec(): string {
  return PACKAGE_ROOT.split(sep).includes('node_modules') ? `^${CADUCEUS_VERSION}` : `file:${PACKAGE_ROOT}`;
}

function engineRange(): string {
  const [major, minor] = CADUCEUS_VERSION.split('.');
  return major === '0' ? `^0.${minor}.0` : `^${major}.0.0`;
}

function templates(id: string, tool: string, description: string): Record<string, string> {
  const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
  return {
    'package.json': json({
      name: `caduceus-plugin-${id}`,
      version: '0.1.0',
      description,
      type: 'module',
      license: 'MIT',
      keywords: ['caduceus-plugin', 'caduceus', 'ai-agent-tools'],
      files: ['caduceus.plugin.json', 'dist/', 'README.md'],
      scripts: {
        build: 'caduceus plugin build',
        test: 'caduceus plugin test',
        prepack: 'caduceus plugin build',
      },
      devDependencies: { caduceus: caduceusSpec() },
    }),
    'caduceus.plugin.json': json({
      manifestVersion: 1,
      id,
      name: id,
      version: '0.1.0',
      description,
      engines: { caduceus: engineRange() },
      main: 'dist/index.js',
      permissions: [],
      configSchema: { type: 'object', properties: {}, additionalProperties: false },
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', strict: true, noEmit: true, skipLibCheck: true, types: [],
      },
      include: ['src', 'caduceus-tools.d.ts'],
    }),
    '.gitignore': 'node_modules/\n',
    'src/index.ts': `import { definePlugin, defineTool, z } from 'caduceus/sdk';

/** One tool; add more with defineTool and list them in definePlugin. */
const greet = defineTool({
  name: '${tool}',
  description: 'Greets someone by name.',
  input: z.object({ name: z.string().min(1).describe('who to greet') }),
  output: z.object({ greeting: z.string() }),
  mutating: false,
  idempotent: true,
  handler: ({ name }, ctx) => {
    ctx.log.info('greeting', name);
    return { greeting: \`Hello, \${name}!\` };
  },
});

export default definePlugin({ tools: [greet] });
`,
    [`test/${id}.test.mjs`]: `// Runs the plugin in a real Caduceus sandbox: \`caduceus plugin test\` builds it, then node's test runner runs this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadPlugin } from 'caduceus/sdk/testing';

const folder = fileURLToPath(new URL('..', import.meta.url));

test('${tool} greets by name', async () => {
  const plugin = await loadPlugin(folder, { build: false });
  try {
    const r = await plugin.call('${tool}', { name: 'Ada' });
    assert.equal(r.ok, true, r.ok ? '' : r.error.message);
    assert.deepEqual(r.result, { greeting: 'Hello, Ada!' });
    assert.deepEqual(plugin.denied(), []);
  } finally {
    await plugin.close();
  }
});

test('${tool} refuses arguments that do not match its schema', async () => {
  const plugin = await loadPlugin(folder, { build: false });
  try {
    const r = await plugin.call('${tool}', { name: '' });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, 'CAD_ERR_TOOL_ARGS_INVALID');
  } finally {
    await plugin.close();
  }
});
`,
    'README.md': `# ${id}

${description}

## Use it

\`\`\`sh
caduceus plugin build                 # bundles src/ into dist/index.js and writes the tool descriptors
caduceus plugins install .            # installs this folder into your Caduceus home
caduceus plugins enable ${id} --yes
caduceus tools call ${tool} '{"name":"Ada"}'
\`\`\`

## Develop

- \`caduceus plugin dev\` rebuilds on every change and hot-reloads the plugin; type \`${tool} {"name":"Ada"}\` to call it.
- \`caduceus plugin test\` (or \`npm test\`) builds the plugin and runs \`test/\` against it in a real sandbox (\`caduceus/sdk/testing\`).
- \`caduceus plugin pack\` makes the \`.tgz\` that \`caduceus plugins install\` and \`npm publish\` take.

Permissions the plugin needs go in \`caduceus.plugin.json\` (\`permissions\`); the operator grants them at enable.
`,
  };
}
