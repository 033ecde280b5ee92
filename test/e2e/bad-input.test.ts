/**
 * Bad input through the built `caduceus` command: broken manifests, engine ranges, escaping mains,
 * duplicate tools, missing and cyclic dependencies, unsafe tarballs, a bundle changed after install, bad
 * tool arguments and bad command lines. Every case must exit non-zero with the right CAD_ERR_* code and a
 * message that names the plugin, the offending field or value and the fix; a failed install must leave
 * nothing behind (same `plugins list`, no plugin folder, empty staging); and the hello example, installed
 * and enabled first, must keep answering. One home is shared by the cases that do not interfere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { FIXTURES, ROOT, buildFixture, copyFixture, makeHome, tempDir, type CliResult, type Home } from '../helpers/cli.js';

const HELLO = join(ROOT, 'examples/hello');

/** Every temp folder the test makes, removed at the end. */
const temps: string[] = [];
function temp(prefix = 'cad-bad-'): string {
  const d = tempDir(prefix);
  temps.push(d);
  return d;
}

/** A copy of a fixture folder whose manifest is changed by `edit` (the fixture on disk is never touched). */
function variant(fixture: string, edit: (m: Record<string, any>) => void, from = join(FIXTURES, fixture)): string {
  const dir = join(temp(), fixture);
  cpSync(from, dir, { recursive: true });
  const file = join(dir, 'caduceus.plugin.json');
  const m = JSON.parse(readFileSync(file, 'utf8'));
  edit(m);
  writeFileSync(file, `${JSON.stringify(m, null, 2)}\n`);
  return dir;
}

/** The failure contract: the exit code, `error <code>:` on stderr, and every expected mention. */
function expectFailure(r: CliResult, code: string, mentions: (string | RegExp)[], exit = 1): void {
  expect(r.code, `${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(exit);
  expect(r.stderr).toContain(`error ${code}: `);
  for (const m of mentions) {
    if (typeof m === 'string') expect(r.stderr).toContain(m);
    else expect(r.stderr).toMatch(m);
  }
  expect(r.stderr).not.toContain('internal error');
}

describe('bad input through the caduceus CLI', () => {
  let home: Home;
  /** Fixture name → a built copy (the real SDK build generates contributes.tools). */
  const built: Record<string, string> = {};

  const list = () => {
    const r = home.run(['plugins', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return r.json<any[]>();
  };
  const tools = () => home.run(['tools', 'list', '--json']).json<any[]>();

  /** After a refused install: the store, the plugins folder and staging are exactly as before. */
  function expectNothingInstalled(before: unknown[], id: string | undefined): void {
    expect(list()).toEqual(before);
    if (id) expect(existsSync(join(home.dir, 'plugins', id)), `${home.dir}/plugins/${id}`).toBe(false);
    const installed = (before as { id: string; bundled: boolean }[]).filter((p) => !p.bundled).map((p) => p.id).sort();
    expect(readdirSync(join(home.dir, 'plugins')).sort(), 'no half-moved or backup folder under plugins/').toEqual(installed);
    const staging = join(home.dir, 'staging');
    expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
  }

  /** Installs `source`, expects the refusal, and checks nothing was left behind. */
  function installFails(source: string, code: string, mentions: (string | RegExp)[], id?: string): CliResult {
    const before = list();
    const r = home.run(['plugins', 'install', source]);
    expectFailure(r, code, mentions);
    expectNothingInstalled(before, id);
    return r;
  }

  function expectHelloAnswers(): void {
    const r = home.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, plugin: 'hello', result: { greeting: expect.stringContaining('Ada') } });
  }

  beforeAll(async () => {
    home = makeHome('cad-bad-input-');
    for (const f of ['dup-tool', 'strict-tool', 'bad-dep-missing', 'dep-a', 'dep-b']) {
      built[f] = copyFixture(f);
      temps.push(built[f]);
      await buildFixture(built[f]);
    }
    for (const args of [['plugins', 'install', HELLO], ['plugins', 'enable', 'hello', '--yes'],
      ['plugins', 'install', built['strict-tool']!], ['plugins', 'enable', 'strict-tool', '--yes']]) {
      const r = home.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });
  afterAll(() => {
    home?.cleanup();
    for (const d of temps) rmSync(d, { recursive: true, force: true });
  });

  it('1. refuses a manifest that is not JSON, naming the plugin, the line and column and the fix', () => {
    installFails(join(FIXTURES, 'bad-json'), 'CAD_ERR_MANIFEST_JSON',
      ["Plugin 'bad-json'", 'bad-json/caduceus.plugin.json', /at line 10, column 1/, 'Fix the JSON syntax'], 'bad-json');
    expectHelloAnswers();
  });

  it('2. refuses schema violations, naming the plugin, the field, the value and the schema', () => {
    // The fixture as committed has an uppercase id; each variant fixes the id and breaks one other field.
    installFails(join(FIXTURES, 'bad-schema'), 'CAD_ERR_MANIFEST_SCHEMA',
      ["Plugin 'Bad-Schema'", "field 'id' (value \"Bad-Schema\")", 'lowercase', 'Fix the field', 'manifests/plugin-manifest.v1.schema.json'], 'Bad-Schema');
    const ok = (m: Record<string, any>) => { m.id = 'bad-schema'; };
    const cases: [string, (m: Record<string, any>) => void, (string | RegExp)[]][] = [
      ['version "1.0"', (m) => { m.version = '1.0'; }, ["field 'version' (value \"1.0\")", 'semver']],
      ['a tool name with a space', (m) => { m.contributes.tools[0].name = 'bad schema tool'; }, ["field 'contributes.tools[0].name' (value \"bad schema tool\")", '^[a-zA-Z0-9_-]{1,64}$']],
      ['a tool name over 64 characters', (m) => { m.contributes.tools[0].name = 't'.repeat(65); }, [`field 'contributes.tools[0].name' (value "${'t'.repeat(65)}")`]],
      ['no configSchema', (m) => { delete m.configSchema; }, ["field 'configSchema'"]],
      ['an unknown top-level key', (m) => { m.colour = 'red'; }, ["field '(root)'", '"colour"']],
    ];
    for (const [, edit, mentions] of cases) {
      const dir = variant('bad-schema', (m) => { ok(m); edit(m); });
      installFails(dir, 'CAD_ERR_MANIFEST_SCHEMA', ["Plugin 'bad-schema'", ...mentions, 'Fix the field'], 'bad-schema');
    }
    expectHelloAnswers();
  });

  it('3. refuses an engines.caduceus range that excludes this version, and "*"', () => {
    installFails(join(FIXTURES, 'bad-engine'), 'CAD_ERR_MANIFEST_ENGINE',
      ["Plugin 'bad-engine'", 'engines.caduceus', '">=9.0.0"', 'but this is 0.1.0', 'widen engines.caduceus'], 'bad-engine');
    installFails(variant('bad-engine', (m) => { m.engines.caduceus = '*'; }), 'CAD_ERR_MANIFEST_ENGINE',
      ["Plugin 'bad-engine'", "field 'engines.caduceus' (value \"*\")", 'may not be "*"', '"^0.1.0"'], 'bad-engine');
    expectHelloAnswers();
  });

  it('3b. keeps the installed version when an upgrade is refused', () => {
    const upgrade = variant('hello', (m) => { m.version = '2.0.0'; m.engines.caduceus = '>=9.0.0'; }, HELLO);
    const bundleBefore = readFileSync(join(home.dir, 'plugins/hello/dist/index.js'));
    installFails(upgrade, 'CAD_ERR_MANIFEST_ENGINE', ["Plugin 'hello'", '">=9.0.0"', "Install a version of 'hello'"]);
    expect(list().find((p) => p.id === 'hello')).toMatchObject({ version: '1.0.0', enabled: true, granted: ['kv'] });
    expect(readFileSync(join(home.dir, 'plugins/hello/dist/index.js'))).toEqual(bundleBefore);
    expectHelloAnswers();
  });

  it('4. refuses a main (../ or a symlink) or skill folder that escapes the plugin folder, and a main that does not exist', () => {
    const escape = join(temp(), 'bad-main-escape');
    cpSync(join(FIXTURES, 'bad-main-escape'), escape, { recursive: true });
    writeFileSync(join(escape, '../outside.js'), 'var __caduceusPlugin = { default: { tools: [] } };\n');
    installFails(escape, 'CAD_ERR_MANIFEST_MAIN',
      ["Plugin 'bad-main-escape'", 'main "../outside.js"', 'resolves outside the plugin folder', 'Keep main a relative path'], 'bad-main-escape');

    const linked = join(temp(), 'bad-main-symlink');
    cpSync(join(FIXTURES, 'bad-main-symlink'), linked, { recursive: true });
    writeFileSync(join(linked, '../outside.js'), 'var __caduceusPlugin = { default: { tools: [] } };\n');
    mkdirSync(join(linked, 'dist'));
    symlinkSync('../../outside.js', join(linked, 'dist/index.js'));
    installFails(linked, 'CAD_ERR_MANIFEST_MAIN',
      ["Plugin 'bad-main-symlink'", 'main "dist/index.js"', 'resolves outside the plugin folder', 'Keep main a relative path'], 'bad-main-symlink');

    // A skill folder outside the plugin: copied as-is it would land outside staging, in <home>/leak.
    const deep = temp();
    mkdirSync(join(deep, 'leak'));
    writeFileSync(join(deep, 'leak/SKILL.md'), '# should never be copied\n');
    mkdirSync(join(deep, 'd1/d2'), { recursive: true });
    const skills = variant('bad-schema', (m) => { m.id = 'bad-skills'; m.contributes.skills = ['../../../leak']; });
    cpSync(skills, join(deep, 'd1/d2/bad-skills'), { recursive: true });
    installFails(join(deep, 'd1/d2/bad-skills'), 'CAD_ERR_MANIFEST_SCHEMA',
      ["Plugin 'bad-skills'", "field 'contributes.skills[0]' (value \"../../../leak\")", 'points outside the plugin folder', 'Fix the field'], 'bad-skills');
    expect(existsSync(join(home.dir, 'leak')), 'nothing copied outside staging').toBe(false);

    installFails(join(FIXTURES, 'bad-main-missing'), 'CAD_ERR_MANIFEST_MAIN',
      ["Plugin 'bad-main-missing'", 'main "dist/index.js"', 'does not exist', 'build the plugin'], 'bad-main-missing');
    expectHelloAnswers();
  });

  it('5. refuses to enable a second plugin with the same tool name, naming both; the first keeps working', () => {
    expect(home.run(['plugins', 'install', built['dup-tool']!]).code).toBe(0);
    const before = list();
    const r = home.run(['plugins', 'enable', 'dup-tool', '--yes']);
    expectFailure(r, 'CAD_ERR_REGISTRY_DUPLICATE', ["Plugin 'dup-tool'", "tool 'hello_greet'", "plugin 'hello'", 'caduceus plugins disable hello']);
    expect(list()).toEqual(before);
    expect(list().find((p) => p.id === 'dup-tool')).toMatchObject({ enabled: false, granted: [] });
    expect(tools().find((t) => t.name === 'hello_greet')).toMatchObject({ plugin: 'hello', status: 'available' });
    expectHelloAnswers();
  });

  it('6. refuses to enable a plugin whose dependency is missing, and lists its tools with the real fix', () => {
    expect(home.run(['plugins', 'install', built['bad-dep-missing']!]).code).toBe(0);
    const before = list();
    const r = home.run(['plugins', 'enable', 'bad-dep-missing', '--yes']);
    expectFailure(r, 'CAD_ERR_DEPENDENCY_MISSING', ["Plugin 'bad-dep-missing'", "plugin 'nope' (^1.0.0)", 'caduceus plugins enable nope']);
    expect(list()).toEqual(before);
    // Still disabled, and `tools list` says why enabling alone would not help.
    expect(tools().find((t) => t.name === 'depmiss_ping')).toMatchObject({
      plugin: 'bad-dep-missing',
      status: 'disabled',
      reason: "plugin 'bad-dep-missing' is disabled and requires 'nope' ^1.0.0, which is not installed",
      fix: "install and enable 'nope' ^1.0.0, then caduceus plugins enable bad-dep-missing",
    });
    const call = home.run(['tools', 'call', 'depmiss_ping', '{}']);
    expectFailure(call, 'CAD_ERR_TOOL_UNAVAILABLE', ["Tool 'depmiss_ping' of plugin 'bad-dep-missing' is disabled", "install and enable 'nope'"]);
    expectHelloAnswers();
  });

  it('6b. refuses the install that would close a dependency cycle, naming both plugins', () => {
    expect(home.run(['plugins', 'install', built['dep-a']!]).code).toBe(0);
    installFails(built['dep-b']!, 'CAD_ERR_DEPENDENCY_CYCLE', ["'dep-a'", "'dep-b'", 'cycle', 'Remove one requires.plugins entry'], 'dep-b');
    expect(list().find((p) => p.id === 'dep-a')).toMatchObject({ enabled: false });
    expectHelloAnswers();
  });

  it('7. refuses a tarball with ../ or link entries before extracting anything', async () => {
    // A real plugin (the hello bundle under another id) plus one entry that climbs out of the folder.
    const base = temp();
    const pkg = variant('hello', (m) => { m.id = 'evil-tar'; }, HELLO);
    writeFileSync(join(pkg, '..', 'evil.txt'), 'should never be extracted\n');
    const evil = join(base, 'evil.tgz');
    await tar.c({ file: evil, gzip: true, cwd: pkg, portable: true, preservePaths: true }, ['caduceus.plugin.json', 'dist/index.js', '../evil.txt']);
    const listed: string[] = [];
    await tar.t({ file: evil, onentry: (e) => listed.push(e.path) });
    expect(listed, 'the tarball really holds the ../ entry').toContain('../evil.txt');

    installFails(evil, 'CAD_ERR_INSTALL_TARBALL_UNSAFE', ["Tarball '", 'evil.tgz', '"../evil.txt"', 'Nothing was installed', 'npm pack'], 'evil-tar');
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
    expect(walk(home.dir).filter((f) => f.endsWith('evil.txt'))).toEqual([]);
    for (const outside of [join(home.dir, '..', 'evil.txt'), join(ROOT, 'evil.txt'), join(ROOT, '..', 'evil.txt')]) {
      expect(existsSync(outside), outside).toBe(false);
    }

    const linkPkg = variant('hello', (m) => { m.id = 'link-tar'; }, HELLO);
    symlinkSync('/etc/passwd', join(linkPkg, 'passwd'));
    const linkTgz = join(base, 'link.tgz');
    await tar.c({ file: linkTgz, gzip: true, cwd: join(linkPkg, '..'), portable: true }, ['hello/caduceus.plugin.json', 'hello/dist/index.js', 'hello/passwd']);
    installFails(linkTgz, 'CAD_ERR_INSTALL_TARBALL_UNSAFE', ['"hello/passwd (SymbolicLink)"', 'npm pack'], 'link-tar');
    expectHelloAnswers();
  });

  it('7b. installs a good .tgz made by npm pack, and a file: npm spec through npm pack', () => {
    const other = makeHome('cad-bad-input-tgz-');
    try {
      const out = temp();
      const packed = JSON.parse(execFileSync('npm', ['pack', HELLO, '--json', '--ignore-scripts', '--pack-destination', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      const tgz = join(out, packed[0].filename);
      const r = other.run(['plugins', 'install', tgz, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ ok: true, id: 'hello', version: '1.0.0', source: tgz });
      expect(other.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
      const call = other.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}', '--json']);
      expect(call.json()).toMatchObject({ ok: true, result: { greeting: expect.stringContaining('Ada') } });

      // A folder with a package.json, named as an npm spec, goes through `npm pack` (not the folder copy).
      const spec = `file:${built['dup-tool']}`;
      writeFileSync(join(built['dup-tool']!, 'package.json'), '{ "name": "caduceus-fixture-dup-tool", "version": "1.0.0" }\n');
      const viaNpm = other.run(['plugins', 'install', spec]);
      expect(viaNpm.code, viaNpm.stderr).toBe(0);
      expect(viaNpm.stderr).toContain(`fetching ${spec} with npm pack`);
      expect(other.run(['plugins', 'info', 'dup-tool', '--json']).json()).toMatchObject({ id: 'dup-tool', source: spec, enabled: false });
      expect(readdirSync(join(other.dir, 'staging'))).toEqual([]);
    } finally {
      other.cleanup();
    }
  });

  it('9. refuses tool arguments that break the input schema, naming the field; and arguments that are not JSON', () => {
    const call = (name: string, args: string) => home.run(['tools', 'call', name, args]);
    const fix = 'caduceus tools list --json';
    expectFailure(call('hello_greet', '{"name":""}'), 'CAD_ERR_TOOL_ARGS_INVALID', ["Tool 'hello_greet' of plugin 'hello'", "field 'name'", 'fewer than 1 characters', fix]);
    expectFailure(call('hello_greet', '{}'), 'CAD_ERR_TOOL_ARGS_INVALID', ["Tool 'hello_greet'", "missing required property 'name'", fix]);
    expectFailure(call('hello_greet', '{"name":1}'), 'CAD_ERR_TOOL_ARGS_INVALID', ["Tool 'hello_greet'", "field 'name' must be string", fix]);
    expectFailure(call('hello_greet', '["Ada"]'), 'CAD_ERR_TOOL_ARGS_INVALID', ["Tool 'hello_greet'", 'must be object', fix]);
    // strict-tool's input schema forbids properties it does not name
    expect(tools().find((t) => t.name === 'strict_repeat')!.inputSchema).toMatchObject({ additionalProperties: false });
    expect(call('strict_repeat', '{"text":"ab","times":2}').stdout).toContain('abab');
    expectFailure(call('strict_repeat', '{"text":"ab","colour":"red"}'), 'CAD_ERR_TOOL_ARGS_INVALID', ["Tool 'strict_repeat' of plugin 'strict-tool'", "unknown property 'colour'", fix]);
    expectFailure(call('strict_repeat', '{"text":"ab","times":9}'), 'CAD_ERR_TOOL_ARGS_INVALID', ["field 'times'", '<= 5', fix]);
    expectFailure(call('hello_greet', '{name: Ada}'), 'CAD_ERR_TOOL_ARGS_JSON', ["tool 'hello_greet'", 'not valid JSON', `'{"name":"Ada"}'`]);
    expectFailure(call('hello_greet', 'Ada'), 'CAD_ERR_TOOL_ARGS_JSON', ["tool 'hello_greet'", 'not valid JSON']);
    const rows = home.run(['audit', 'tail', '-n', '20', '--json', '--kind', 'tool.call']).json<any[]>();
    expect(rows.filter((x) => x.code === 'CAD_ERR_TOOL_ARGS_INVALID').length).toBeGreaterThanOrEqual(6);
    expectHelloAnswers();
  });

  it('10. refuses unknown ids, ungrantable permissions, removing a bundled plugin and bad command lines', () => {
    const before = list();
    for (const verb of ['enable', 'info', 'remove', 'disable']) {
      expectFailure(home.run(['plugins', verb, 'nope']), 'CAD_ERR_PLUGIN_NOT_FOUND', ["'nope'", 'caduceus plugins list']);
    }
    expectFailure(home.run(['plugins', 'grant', 'hello', 'net:example.com']), 'CAD_ERR_PERMISSION_NOT_REQUESTED',
      ["Plugin 'hello'", '"net:example.com"', 'It requests: kv', 'caduceus plugins info hello']);
    expectFailure(home.run(['plugins', 'grant', 'hello', 'bogus']), 'CAD_ERR_PERMISSION_INVALID', ["plugin 'hello'", '"bogus"', 'net:<host>']);
    expectFailure(home.run(['plugins', 'remove', 'tool-policy']), 'CAD_ERR_PLUGIN_BUNDLED', ["Plugin 'tool-policy'", 'caduceus plugins disable tool-policy']);
    expect(list()).toEqual(before);

    expectFailure(home.run(['audit', 'tail', '-n', 'abc']), 'CAD_ERR_CLI_USAGE', ['-n "abc"', 'whole number'], 2);
    expectFailure(home.run(['plugins', 'install', join(tmpdir(), 'cad-no-such-plugin-folder')]), 'CAD_ERR_INSTALL_SOURCE', ['cad-no-such-plugin-folder', 'does not exist']);
    const unknown = home.run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const missingArg = home.run(['plugins', 'enable']);
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr).toContain("missing required argument 'id'");
    expectHelloAnswers();
  });

  it('8. refuses to run a bundle changed after install; doctor reports it with the fix; other plugins keep working', () => {
    const bundle = join(home.dir, 'plugins/hello/dist/index.js');
    const original = readFileSync(bundle);
    appendFileSync(bundle, ' ');
    try {
      const r = home.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}']);
      expectFailure(r, 'CAD_ERR_INTEGRITY_MISMATCH', ["Plugin 'hello'", 'changed since it was installed', 'caduceus plugins install']);

      const doctor = home.run(['doctor', '--json']);
      expect(doctor.code).toBe(1);
      const report = doctor.json();
      expect(report.ok).toBe(false);
      expect(report.plugins.find((p: any) => p.plugin === 'hello')).toMatchObject({
        ok: false, code: 'CAD_ERR_INTEGRITY_MISMATCH', fix: expect.stringContaining('caduceus plugins install'),
      });
      expect(report.plugins.find((p: any) => p.plugin === 'strict-tool')).toMatchObject({ ok: true });
      const human = home.run(['doctor']);
      expect(human.code).toBe(1);
      expect(human.stdout).toMatch(/FAIL\s+hello CAD_ERR_INTEGRITY_MISMATCH/);
      expect(human.stdout).toContain('fix: reinstall it: caduceus plugins install');

      const other = home.run(['tools', 'call', 'strict_repeat', '{"text":"ok"}', '--json']);
      expect(other.code, other.stderr).toBe(0);
      expect(other.json()).toMatchObject({ ok: true, result: { text: 'ok' } });
    } finally {
      writeFileSync(bundle, original);
    }
    expectHelloAnswers();
  });
});
