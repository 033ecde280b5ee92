/**
 * The plugin author's path (issue #3), through the built `caduceus` command: the five-command tutorial
 * exactly as docs/writing-plugins.md prints it, the scaffolded test passing out of the box, pack →
 * install, and the build's refusals (an unrepresentable zod schema, a transform, duplicate tool names,
 * a Node import, an SDK version this host does not run).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

/** The commands between the tutorial markers of docs/writing-plugins.md. */
function tutorialCommands(): string[] {
  const doc = readFileSync(join(ROOT, 'docs/writing-plugins.md'), 'utf8');
  const block = doc.slice(doc.indexOf('<!-- tutorial:start -->'), doc.indexOf('<!-- tutorial:end -->'));
  const body = block.slice(block.indexOf('```sh') + 5, block.lastIndexOf('```'));
  return body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

describe('the five-command tutorial in docs/writing-plugins.md', () => {
  let home: Home;
  let work: string;
  beforeAll(() => {
    home = makeHome();
    work = tempDir('cad-author-');
  });
  afterAll(() => home.cleanup());

  it('has at most five commands, and each one works in an empty folder as printed', () => {
    const commands = tutorialCommands();
    expect(commands.length).toBeGreaterThanOrEqual(3);
    expect(commands.length).toBeLessThanOrEqual(5);
    let last = '';
    for (const line of commands) {
      expect(line.startsWith('npx caduceus ')).toBe(true);
      const r = spawnSync('sh', ['-c', line.replace(/^npx caduceus /, `${JSON.stringify(BIN)} `)], { cwd: work, env: home.env, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      last = r.stdout;
    }
    expect(JSON.parse(last)).toEqual({ greeting: 'Hello, Ada!' });
  });

  it('scaffolds a package.json that can be published to npm as is', () => {
    const pkg = JSON.parse(readFileSync(join(work, 'weather/package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'caduceus-plugin-weather', version: '0.1.0', type: 'module' });
    expect(pkg.keywords).toContain('caduceus-plugin');
    expect(pkg.files).toEqual(expect.arrayContaining(['caduceus.plugin.json', 'dist/']));
    expect(pkg.scripts.test).toBe('caduceus plugin test');
    const manifest = JSON.parse(readFileSync(join(work, 'weather/caduceus.plugin.json'), 'utf8'));
    expect(manifest.engines.caduceus).toBe('^0.1.0');
    expect(manifest.sdk).toBe('0.1.0');
  });

  it('the scaffolded test passes out of the box through `caduceus plugin test`, and a broken tool fails it', () => {
    const ok = home.run(['plugin', 'test', join(work, 'weather')]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/# pass 2/);
    const src = join(work, 'weather/src/index.ts');
    writeFileSync(src, readFileSync(src, 'utf8').replace('Hello, ', 'Goodbye, '));
    const bad = home.run(['plugin', 'test', join(work, 'weather')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/# fail 1/);
  });

  it('refuses a name that is not a plugin id, and a folder that is not empty, writing nothing', () => {
    const bad = home.run(['plugin', 'new', 'Weather Tools'], { cwd: work });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('CAD_ERR_SCAFFOLD_NAME');
    expect(bad.stderr).toContain('"Weather Tools"');
    expect(existsSync(join(work, 'Weather Tools'))).toBe(false);
    const again = home.run(['plugin', 'new', 'weather'], { cwd: work });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('CAD_ERR_SCAFFOLD_EXISTS');
  });
});

describe('caduceus plugin pack', () => {
  let home: Home;
  let work: string;
  beforeAll(() => {
    home = makeHome();
    work = tempDir('cad-pack-');
    expect(home.run(['plugin', 'new', 'packed'], { cwd: work }).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  it('makes a .tgz that plugins install accepts, holding only what npm would publish', () => {
    const r = home.run(['plugin', 'pack', join(work, 'packed'), '--out', work, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out.file).toBe(join(work, 'caduceus-plugin-packed-0.1.0.tgz'));
    expect(out.entries).toEqual(['README.md', 'caduceus.plugin.json', 'dist/index.js', 'package.json']);
    expect(home.run(['plugins', 'install', out.file]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'packed', '--yes']).code).toBe(0);
    const call = home.run(['tools', 'call', 'packed_greet', '{"name":"Tar"}']);
    expect(call.code, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual({ greeting: 'Hello, Tar!' });
  });

  it('refuses a package.json whose files leave out the bundle, and a version that differs from the manifest', () => {
    const pkgFile = join(work, 'packed/package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    writeFileSync(pkgFile, JSON.stringify({ ...pkg, files: ['caduceus.plugin.json'] }));
    const noDist = home.run(['plugin', 'pack', join(work, 'packed'), '--out', work]);
    expect(noDist.code).toBe(1);
    expect(noDist.stderr).toContain('CAD_ERR_PACK_FAILED');
    expect(noDist.stderr).toContain('dist/index.js');
    expect(noDist.stderr).toContain('"files"');
    writeFileSync(pkgFile, JSON.stringify({ ...pkg, version: '0.2.0' }));
    const skew = home.run(['plugin', 'pack', join(work, 'packed'), '--out', work]);
    expect(skew.code).toBe(1);
    expect(skew.stderr).toMatch(/package\.json version "0\.2\.0" differs from caduceus\.plugin\.json version "0\.1\.0"/);
  });
});

describe('build refusals', () => {
  let home: Home;
  let work: string;
  beforeAll(() => {
    home = makeHome();
    work = tempDir('cad-build-bad-');
  });
  afterAll(() => home.cleanup());

  const tool = (name: string, input: string, extra = '') =>
    `defineTool({ name: '${name}', description: 'd', input: ${input}, ${extra} handler: () => ({}) })`;

  it('a zod type with no JSON Schema equivalent is a build error naming the tool and the fix', () => {
    const dir = writePlugin(join(work, 'dates'), 'dates', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [${tool('dates_when', 'z.object({ at: z.date() })')}] });`);
    const r = home.run(['plugin', 'build', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_BUILD_SCHEMA');
    expect(r.stderr).toContain('"dates_when"');
    expect(r.stderr).toContain('Date cannot be represented in JSON Schema');
    expect(r.stderr).toContain('z.string().describe("ISO 8601 date")');
    expect(existsSync(join(dir, 'dist/index.js'))).toBe(false);
  });

  it('a transform in an input schema is refused, because it would never run', () => {
    const dir = writePlugin(join(work, 'shapes'), 'shapes', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [${tool('shapes_len', 'z.object({ s: z.string().transform((v) => v.length) })')}] });`);
    const r = home.run(['plugin', 'build', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_BUILD_SCHEMA');
    expect(r.stderr).toContain('Transforms never run');
  });

  it('two tools with the same name in one plugin are a build error', () => {
    const dir = writePlugin(join(work, 'twins'), 'twins', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [${tool('twins_a', 'z.object({})')}, ${tool('twins_a', 'z.object({ x: z.string() })')}] });`);
    const r = home.run(['plugin', 'build', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_BUILD_DUPLICATE_TOOL');
    expect(r.stderr).toContain('"twins_a"');
  });

  it('importing fs is a build error naming the import and the syscall to use', () => {
    const dir = writePlugin(join(work, 'files'), 'files', `import { readFileSync } from 'node:fs';
import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [defineTool({ name: 'files_read', description: 'd', input: z.object({}), handler: () => ({ t: readFileSync('/etc/passwd', 'utf8') }) })] });`);
    const r = home.run(['plugin', 'build', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_BUILD_UNSANDBOXABLE');
    expect(r.stderr).toContain("imports 'node:fs'");
    expect(r.stderr).toContain('ctx.fs.read');
  });

  it('a syntax error names the file, line and column', () => {
    const dir = writePlugin(join(work, 'typo'), 'typo', `import { definePlugin } from 'caduceus/sdk';\nexport default definePlugin({ tools: [ }`);
    const r = home.run(['plugin', 'build', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CAD_ERR_BUILD_BUNDLE: .*src\/index\.ts:2:\d+/);
  });

  it('a plugin built with an SDK outside the supported range is refused at install, and nothing is installed', () => {
    const dir = writePlugin(join(work, 'future'), 'future', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [${tool('future_x', 'z.object({})')}] });`);
    expect(home.run(['plugin', 'build', dir]).code).toBe(0);
    const file = join(dir, 'caduceus.plugin.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), sdk: '0.9.0' }));
    const r = home.run(['plugins', 'install', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_MANIFEST_SDK');
    expect(r.stderr).toContain('caduceus/sdk 0.9.0');
    expect(r.stderr).toContain('>=0.1.0 <0.2.0');
    expect(home.run(['plugins', 'list', '--json']).json<{ id: string }[]>().some((p) => p.id === 'future')).toBe(false);
  });

  it('a handler returning data that breaks its output schema is a coded error, and the next call works', () => {
    const dir = writePlugin(join(work, 'liar'), 'liar', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [defineTool({ name: 'liar_count', description: 'd', input: z.object({ lie: z.boolean() }),
  output: z.object({ n: z.number() }), handler: ({ lie }) => (lie ? { n: 'many' } : { n: 3 }) as { n: number } })] });`);
    expect(home.run(['plugin', 'build', dir]).code).toBe(0);
    expect(home.run(['plugins', 'install', dir]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'liar', '--yes']).code).toBe(0);
    const bad = home.run(['tools', 'call', 'liar_count', '{"lie":true}', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.json().error).toMatchObject({ code: 'CAD_ERR_TOOL_RESULT_INVALID', plugin: 'liar' });
    const good = home.run(['tools', 'call', 'liar_count', '{"lie":false}']);
    expect(good.code, good.stderr).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ n: 3 });
  });
});
