/**
 * Building a plugin: bundle `src/index.ts` with esbuild into one file an isolate can run, refuse imports
 * that cannot be sandboxed (naming the syscall to use instead), then evaluate the bundle once to read its
 * tool definitions and write them into `caduceus.plugin.json` as descriptors. The manifest's
 * `contributes.tools` (and declaratively tapped hooks) are therefore generated from code, never
 * hand-synced; the kernel checks the two again at load.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { CaduceusError } from '../core/errors.js';
import { parseManifestText } from '../core/manifest/load.js';
import { MANIFEST_FILE, type Manifest } from '../core/manifest/schema.js';
import { integrityOf } from '../core/integrity.js';
import { checkCommandNames } from '../core/commands.js';
import { CADUCEUS_VERSION } from '../core/version.js';

const SANDBOX_ALTERNATIVE: Record<string, string> = {
  fs: 'ctx.fs.read / ctx.fs.write (permissions fs.read:<dir>, fs.write:<dir>)',
  'fs/promises': 'ctx.fs.read / ctx.fs.write (permissions fs.read:<dir>, fs.write:<dir>)',
  path: 'plain string handling (paths are resolved on the host by ctx.fs)',
  http: 'ctx.fetch (permission net:<host>)',
  https: 'ctx.fetch (permission net:<host>)',
  net: 'ctx.fetch (permission net:<host>)',
  child_process: 'ctx.exec (permission exec; every command passes the command guard)',
  process: 'ctx.env.get (permission env:<NAME>)',
  os: 'ctx.env.get (permission env:<NAME>)',
};

export interface BuildOptions {
  /** Entry file relative to the plugin folder; default src/index.ts. */
  entry?: string;
  /** Only check that the manifest on disk matches the code; do not write it. */
  check?: boolean;
  minify?: boolean;
}

export interface BuildResult {
  manifest: Manifest;
  bundleFile: string;
  integrity: string;
  manifestChanged: boolean;
  bytes: number;
}

const SDK_DIR = dirname(fileURLToPath(import.meta.url));
/** The describe pass uses the real SDK (zod); the sandbox bundle uses the lean runtime entry. */
const SDK_ENTRY = { describe: join(SDK_DIR, 'index.js'), runtime: join(SDK_DIR, 'runtime.js') };

export async function buildPlugin(dir: string, opts: BuildOptions = {}): Promise<BuildResult> {
  const manifestFile = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestFile)) {
    throw new CaduceusError('CAD_ERR_MANIFEST_NOT_FOUND', `No ${MANIFEST_FILE} in '${dir}'. Create one: examples/hello/caduceus.plugin.json is a small example and manifests/plugin-manifest.v1.schema.json the schema.`);
  }
  const sourceText = readFileSync(manifestFile, 'utf8');
  const source = parseManifestText(sourceText, manifestFile);
  const entry = join(dir, opts.entry ?? 'src/index.ts');
  const outfile = join(dir, source.main);
  const describeCode = await bundle(dir, source.id, entry, outfile, 'describe', opts.minify ?? true);
  const code = await bundle(dir, source.id, entry, outfile, 'runtime', opts.minify ?? true);
  const described = describeBundle(source.id, describeCode);
  const manifestObj = JSON.parse(sourceText) as Record<string, unknown>;
  const contributes = (manifestObj.contributes ?? {}) as Record<string, unknown>;
  contributes.tools = described.tools;
  if (described.providers.length) contributes.providers = described.providers;
  else delete contributes.providers;
  if (described.commands.length) contributes.commands = described.commands;
  else delete contributes.commands;
  manifestObj.sdk = CADUCEUS_VERSION;
  const handHooks = ((contributes.hooks ?? []) as { name: string }[]).filter((h) => !described.hooks.some((d) => d.name === h.name));
  const hooks = [...handHooks, ...described.hooks];
  if (hooks.length) contributes.hooks = hooks;
  else delete contributes.hooks;
  manifestObj.contributes = contributes;
  const nextText = `${JSON.stringify(manifestObj, null, 2)}\n`;
  const manifest = parseManifestText(nextText, manifestFile);
  checkCommandNames(manifest);
  const manifestChanged = nextText !== sourceText;
  if (opts.check) {
    if (manifestChanged) {
      throw new CaduceusError('CAD_ERR_BUILD_STALE', `Plugin '${source.id}' manifest is out of date with its code. Run \`caduceus plugin build\` in '${dir}'.`, { plugin: source.id });
    }
  } else {
    mkdirSync(dirname(outfile), { recursive: true });
    writeFileSync(outfile, code);
    if (manifestChanged) writeFileSync(manifestFile, nextText);
  }
  return { manifest, bundleFile: outfile, integrity: integrityOf(code), manifestChanged, bytes: Buffer.byteLength(code) };
}

async function bundle(dir: string, id: string, entry: string, outfile: string, mode: 'describe' | 'runtime', minify: boolean): Promise<string> {
  const blocked: string[] = [];
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'iife',
    globalName: '__caduceusPlugin',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    target: 'es2022',
    minify: minify,
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
    plugins: [{
      name: 'caduceus-sandbox',
      setup(b) {
        b.onResolve({ filter: /^caduceus\/sdk$/ }, () => ({ path: SDK_ENTRY[mode] }));
        b.onResolve({ filter: /.*/ }, (args) => {
          const bare = args.path.replace(/^node:/, '');
          if (args.path.startsWith('node:') || builtinModules.includes(bare)) {
            blocked.push(`${args.importer ? relative(dir, args.importer) : '?'} imports '${args.path}': it cannot run in the sandbox; use ${SANDBOX_ALTERNATIVE[bare.split('/')[0]!] ?? SANDBOX_ALTERNATIVE[bare] ?? 'the host API in caduceus/sdk'}`);
            return { path: args.path, external: true };
          }
          return undefined;
        });
      },
    }],
  }).catch((err: esbuild.BuildFailure) => {
    const where = (e: esbuild.Message) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ` : '');
    throw new CaduceusError('CAD_ERR_BUILD_BUNDLE', `Plugin '${id}' failed to bundle: ${err.errors?.map((e) => `${where(e)}${e.text}`).join('; ') ?? err.message}`, { plugin: id });
  });
  if (blocked.length) {
    throw new CaduceusError('CAD_ERR_BUILD_UNSANDBOXABLE', `Plugin '${id}' cannot be sandboxed: ${blocked.join('; ')}.`, { plugin: id, details: { blocked } });
  }
  return result.outputFiles[0]!.text;
}

/** Evaluates the bundle in a throwaway context to read its definitions; no plugin handler runs. */
function describeBundle(id: string, code: string): { tools: Record<string, unknown>[]; providers: Record<string, unknown>[]; commands: Record<string, unknown>[]; hooks: { name: string; stage: string }[] } {
  const sandbox: Record<string, unknown> = {};
  try {
    runInNewContext(`${code}\n;globalThis.__out = __caduceusPlugin;`, sandbox, { timeout: 5000, filename: `${id}.bundle.js` });
  } catch (err) {
    throw new CaduceusError('CAD_ERR_BUILD_BUNDLE', `Plugin '${id}' bundle throws while loading: ${(err as Error).message}`, { plugin: id });
  }
  const mod = sandbox.__out as { default?: { tools?: { name?: string; describe?: () => Record<string, unknown> }[]; providers?: { name?: string; describe?: () => Record<string, unknown> }[]; commands?: { name?: string; describe?: () => Record<string, unknown> }[]; hooks?: Record<string, { stage?: string; scope?: string }> } } | undefined;
  const def = mod?.default;
  if (!def || !Array.isArray(def.tools)) {
    throw new CaduceusError('CAD_ERR_BUILD_BUNDLE', `Plugin '${id}' does not \`export default definePlugin(...)\` from its entry.`, { plugin: id });
  }
  const seen = new Set<string>();
  const tools = def.tools.map((t: { name?: string; describe?: () => Record<string, unknown> }) => {
    if (typeof t.describe !== 'function') throw new CaduceusError('CAD_ERR_BUILD_BUNDLE', `Plugin '${id}' has a tool not made with defineTool().`, { plugin: id });
    if (seen.has(String(t.name))) {
      throw new CaduceusError('CAD_ERR_BUILD_DUPLICATE_TOOL', `Plugin '${id}' defines two tools named ${JSON.stringify(t.name)}. Rename one of them: a tool name must be unique.`, { plugin: id, tool: String(t.name) });
    }
    seen.add(String(t.name));
    try {
      return JSON.parse(JSON.stringify(t.describe())) as Record<string, unknown>;
    } catch (err) {
      throw new CaduceusError('CAD_ERR_BUILD_SCHEMA', `Plugin '${id}' tool ${JSON.stringify(t.name)}: ${(err as Error).message}`, { plugin: id, tool: String(t.name) });
    }
  });
  const hooks = Object.entries(def.hooks ?? {}).map(([name, h]) => ({ name, stage: h?.stage ?? 'DEFAULT', ...(h?.scope ? { scope: h.scope } : {}) }));
  const providers = (def.providers ?? []).map((p) => {
    if (typeof p?.describe !== 'function') throw new CaduceusError('CAD_ERR_BUILD_BUNDLE', `Plugin '${id}' has a provider not made with defineProvider().`, { plugin: id });
    return JSON.parse(JSON.stringify(p.describe())) as Record<string, unknown>;
  });
  const commands = (def.commands ?? []).map((c) => {
    if (typeof c?.describe !== 'function') throw new CaduceusError('CAD_ERR_BUILD_BUNDLE', `Plugin '${id}' has a command not made with defineCommand().`, { plugin: id });
    return JSON.parse(JSON.stringify(c.describe())) as Record<string, unknown>;
  });
  return { tools, providers, commands, hooks };
}
