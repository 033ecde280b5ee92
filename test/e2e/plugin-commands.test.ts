/**
 * Plugin CLI commands (defineCommand) through the built `caduceus`: a plugin's command runs in its
 * sandbox with its output printed as it comes, its exit code, `--json`, `--help` from the manifest,
 * failures with codes, the wall-clock limit and none (Ctrl-C ends it cleanly, exit 130), an audit row per
 * run, disabled and unknown commands, reserved names refused at build and install, two plugins with one
 * command name refused at enable, and `caduceus --help` listing plugin commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, copyFixture, makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const { BUILTIN_COMMANDS } = await import('../../dist/core/commands.js') as { BUILTIN_COMMANDS: Set<string> };

describe('plugin CLI commands', () => {
  let home: Home;
  let dir: string;
  beforeAll(() => {
    home = makeHome();
    dir = copyFixture('cli-command');
    const built = home.run(['plugin', 'build', dir]);
    expect(built.code, built.stderr).toBe(0);
    expect(home.run(['plugins', 'install', dir]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'cli-command', '--yes']).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  it('the build writes contributes.commands with subcommands and timeouts', () => {
    const m = JSON.parse(readFileSync(join(dir, 'caduceus.plugin.json'), 'utf8'));
    const byName = Object.fromEntries(m.contributes.commands.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['greet', 'too-slow', 'wait-forever']);
    expect(byName.greet.timeoutMs).toBe(60_000);
    expect(byName.greet.subcommands[0]).toEqual({ name: 'hello', description: 'Say hello to each name', usage: 'greet hello <name...> [--json]' });
    expect(byName['wait-forever'].timeoutMs).toBe(0);
  });

  it('runs the command in the plugin: stdout, stderr, exit code, ctx', () => {
    const r = home.run(['greet', 'hello', 'Ada', 'Bo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Hello, Ada!\nHello, Bo!\n');
    expect(r.stderr).toBe('greeted 2\n');
    // kv is the plugin's own: state survives between runs (each run is a new process)
    expect(home.run(['greet', 'count']).stdout).toBe('2\n');
    expect(home.run(['greet', 'exit', '7']).code).toBe(7);
    const usage = home.run(['greet', 'hello']);
    expect(usage.code, usage.stderr).toBe(2);
    expect(usage.stderr).toContain('usage: caduceus greet hello');
  });

  it('--json sets io.json and is removed from argv', () => {
    const r = home.run(['greet', 'hello', '--json', 'Cy']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ greeted: ['Cy'], count: 3 });
  });

  it('a throw, a bad return value and a timeout fail with codes', () => {
    const thrown = home.run(['greet', 'fail']);
    expect(thrown.code).toBe(1);
    expect(thrown.stderr).toContain("CAD_ERR_COMMAND_FAILED: Plugin 'cli-command' command 'greet' threw: the fixture failed on purpose");
    const bad = home.run(['greet', 'bad-exit', '--json']);
    expect(bad.code).toBe(1);
    expect(bad.json().error).toMatchObject({ code: 'CAD_ERR_COMMAND_FAILED', plugin: 'cli-command' });
    expect(bad.json().error.message).toContain('"yes", which is not an exit code');
    const slow = home.run(['too-slow']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain("CAD_ERR_SANDBOX_TIMEOUT: Plugin 'cli-command' command 'too-slow' did not settle within 300 ms");
  });

  it('--help answers from the manifest without starting the plugin', () => {
    const before = home.run(['audit', 'tail', '-n', '500', '--json', '--plugin', 'cli-command', '--kind', 'plugin.load']).json().length;
    const top = home.run(['greet', '--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: caduceus greet <subcommand>');
    expect(top.stdout).toMatch(/count\s+How many greetings were said so far/);
    expect(top.stdout).toContain("Served by plugin 'cli-command'.");
    const sub = home.run(['greet', 'hello', '--help']);
    expect(sub.stdout).toContain('Usage: caduceus greet hello <name...> [--json]');
    expect(home.run(['audit', 'tail', '-n', '500', '--json', '--plugin', 'cli-command', '--kind', 'plugin.load']).json().length).toBe(before);
  });

  it('caduceus --help lists plugin commands beside the built-in ones', () => {
    const r = home.run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Plugin commands:');
    expect(r.stdout).toMatch(/greet\s+Greets people \(test fixture\) \(plugin 'cli-command'\)/);
    expect(r.stdout).toMatch(/wait-forever\s+Prints one line/);
  });

  it('every built-in command in --help is reserved from plugins', () => {
    const out = home.run(['--help']).stdout;
    const section = out.slice(out.indexOf('Commands:'), out.indexOf('Plugin commands:'));
    const names = [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(8);
    expect(names.filter((n) => !BUILTIN_COMMANDS.has(n))).toEqual([]);
  });

  it('timeoutMs 0 runs until Ctrl-C, which ends it cleanly with exit 130 and an audit row', async () => {
    const child = spawn(BIN, ['wait-forever'], { env: home.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no output in time; stderr: ${err}`)), 20_000);
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('waiting\n')) { clearTimeout(t); resolve(); }
      });
    });
    // Still running well past the default 60 s limit would take too long to show; 1.5 s past start is
    // enough to see it did not end on its own.
    await new Promise((r) => setTimeout(r, 1500));
    expect(child.exitCode).toBeNull();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(err).not.toMatch(/never settled|internal error/);
    const rows = home.run(['audit', 'tail', '-n', '200', '--json', '--kind', 'command.run']).json() as { plugin: string; outcome: string; detail: Record<string, unknown> }[];
    expect(rows.at(-1)).toMatchObject({ plugin: 'cli-command', outcome: 'ok', detail: { command: 'wait-forever', exitCode: 130, interrupted: true } });
  });

  it('writes one command.run audit row per run, arguments as a digest', () => {
    home.run(['greet', 'hello', 'Secret-Name']);
    const rows = home.run(['audit', 'tail', '-n', '1', '--json', '--kind', 'command.run']).json() as { plugin: string; caller: string; outcome: string; argsDigest: string; detail: Record<string, unknown> }[];
    expect(rows[0]).toMatchObject({ plugin: 'cli-command', caller: 'operator', outcome: 'ok', detail: { command: 'greet', subcommand: 'hello', exitCode: 0 } });
    expect(rows[0]!.argsDigest).toMatch(/^sha256:/);
    expect(JSON.stringify(rows[0])).not.toContain('Secret-Name');
  });

  it('a disabled plugin\'s command gives a clear error; an unknown command is a usage error', () => {
    expect(home.run(['plugins', 'disable', 'cli-command']).code).toBe(0);
    const r = home.run(['greet', 'count']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("CAD_ERR_PLUGIN_DISABLED: Command 'greet' comes from plugin 'cli-command', which is disabled. Run `caduceus plugins enable cli-command`.");
    expect(home.run(['--help']).stdout).toMatch(/greet\s+.*plugin 'cli-command' is disabled/);
    expect(home.run(['plugins', 'enable', 'cli-command', '--yes']).code).toBe(0);
    const unknown = home.run(['no-such-command']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'no-such-command'");
  });

  it('two plugins with one command name: enabling the second is refused, naming both', () => {
    const other = writePlugin(tempDir('cad-cmd-dup-'), 'greeter-two', `import { defineCommand, definePlugin } from 'caduceus/sdk';
export default definePlugin({ commands: [defineCommand({ name: 'greet', description: 'another greet', run: () => 0 })] });`);
    expect(home.run(['plugin', 'build', other]).code).toBe(0);
    expect(home.run(['plugins', 'install', other]).code).toBe(0);
    const r = home.run(['plugins', 'enable', 'greeter-two', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("CAD_ERR_REGISTRY_DUPLICATE: Plugin 'greeter-two' contributes command 'greet', which enabled plugin 'cli-command' already contributes.");
  });

  it('a built-in command name is refused at build and at install', () => {
    const reserved = writePlugin(tempDir('cad-cmd-reserved-'), 'takes-tools', `import { defineCommand, definePlugin } from 'caduceus/sdk';
export default definePlugin({ commands: [defineCommand({ name: 'tools', description: 'shadow a built-in', run: () => 0 })] });`);
    const built = home.run(['plugin', 'build', reserved]);
    expect(built.code).toBe(1);
    expect(built.stderr).toContain("CAD_ERR_COMMAND_RESERVED: Plugin 'takes-tools' contributes the command 'tools', which is a built-in caduceus command.");
    // A manifest written by hand (no build) is refused by install the same way.
    writeFileSync(join(reserved, 'dist.js'), 'var __caduceusPlugin = { default: { tools: [] } };');
    const m = JSON.parse(readFileSync(join(reserved, 'caduceus.plugin.json'), 'utf8'));
    writeFileSync(join(reserved, 'caduceus.plugin.json'), JSON.stringify({ ...m, main: 'dist.js', contributes: { commands: [{ name: 'plugins', description: 'x' }] } }));
    const installed = home.run(['plugins', 'install', reserved]);
    expect(installed.code).toBe(1);
    expect(installed.stderr).toContain("CAD_ERR_COMMAND_RESERVED: Plugin 'takes-tools' contributes the command 'plugins'");
  });
});
