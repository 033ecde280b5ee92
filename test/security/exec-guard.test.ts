/**
 * The exec syscall behind the command guard, through the CLI and the public kernel API: hardline
 * commands never run (in any mode, whatever the config), dangerous ones need approval through the
 * approval hook (once / session / always / deny; denied when nothing can ask), config globs deny and
 * allow, allowlist mode refuses the rest; commands run in the workspace with a filtered environment,
 * a timeout that kills the process group and capped output. Every decision is audited.
 *
 * The hardline cases use commands that would fail harmlessly if the guard ever let them through
 * (mkfs on a path that does not exist), so a regression cannot damage the machine running the tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const SOURCE = `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [defineTool({ name: 'sh_run', description: 'runs a command',
  input: z.object({ command: z.string(), timeoutMs: z.number().optional(), maxOutputBytes: z.number().optional(), cwd: z.string().optional() }),
  timeoutMs: 20_000,
  handler: async ({ command, ...opts }, ctx) => { try { return await ctx.exec(command, opts); } catch (e) { return { code: (e as { code?: string }).code, message: String((e as Error).message) }; } },
})] });`;

let pluginDir: string;
beforeAll(async () => {
  pluginDir = writePlugin(tempDir('cad-exec-'), 'sh', SOURCE, { permissions: ['exec', 'env:GRANTED_VAR'] });
  const { buildPlugin } = await import(join(ROOT, 'dist/sdk/build.js'));
  await buildPlugin(pluginDir);
});

describe('exec through caduceus tools call', () => {
  let home: Home;
  let workspace: string;
  const call = (command: string, extra: Record<string, unknown> = {}) => {
    const r = home.run(['tools', 'call', 'sh_run', JSON.stringify({ command, ...extra })], { cwd: workspace, env: { SECRET_TOKEN: 'tok-xyz', GRANTED_VAR: 'granted' } });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const config = (security: unknown) => writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ security }));
  beforeAll(() => {
    home = makeHome();
    workspace = tempDir('cad-exec-ws-');
    expect(home.run(['plugins', 'install', pluginDir]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'sh', '--yes']).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  it('runs a safe command in the workspace and returns its output and exit code', () => {
    expect(call('echo hi; pwd; exit 3')).toMatchObject({ exitCode: 3, stdout: `hi\n${workspace}\n`, timedOut: false, truncated: false });
  });

  it('passes only granted environment variables: no secrets', () => {
    expect(call('echo "[$SECRET_TOKEN][$GRANTED_VAR]"').stdout).toBe('[][granted]\n');
  });

  it('refuses hardline commands in every mode, even when a config glob allows them, and audits it', () => {
    for (const mode of ['ask', 'deny', 'allowlist']) {
      config({ approvals: { mode }, commands: { allow: ['*'] } });
      for (const command of ['mkfs.ext4 /nonexistent/caduceus-test', '/sbin/mkfs -t ext4 "/nonexistent/x"', 'echo ok && mkfs.xfs /nonexistent/y']) {
        const r = call(command);
        expect(r.code, `${mode}: ${command}`).toBe('CAD_ERR_EXEC_HARDLINE');
        expect(r.message).toContain('hardline.mkfs');
      }
    }
    const rows = home.run(['audit', 'tail', '-n', '200', '--json']).json<any[]>().filter((x) => x.kind === 'exec.denied');
    expect(rows.length).toBeGreaterThanOrEqual(9);
    expect(rows[0]).toMatchObject({ plugin: 'sh', outcome: 'denied', code: 'CAD_ERR_EXEC_HARDLINE' });
  });

  it('denies a dangerous command when nothing can ask, and the command does not run', () => {
    config({});
    mkdirSync(join(workspace, 'build/x'), { recursive: true });
    const r = call('rm -rf build');
    expect(r.code).toBe('CAD_ERR_EXEC_DENIED');
    expect(r.message).toContain('dangerous.rm-recursive');
    expect(existsSync(join(workspace, 'build/x'))).toBe(true);
    const approval = home.run(['audit', 'tail', '-n', '20', '--json', '--kind', 'approval']).json<any[]>().at(-1);
    expect(approval).toMatchObject({ outcome: 'denied', detail: { request: 'command', answer: 'no-one-to-ask', rule: 'dangerous.rm-recursive' } });
  });

  it('runs a dangerous command an allow glob covers, and refuses what a deny glob covers', () => {
    config({ commands: { allow: ['rm -rf build'], deny: ['git push *'] } });
    expect(call('rm -rf build')).toMatchObject({ exitCode: 0 });
    expect(existsSync(join(workspace, 'build'))).toBe(false);
    const denied = call('git push origin main');
    expect(denied.code).toBe('CAD_ERR_EXEC_DENIED');
    expect(denied.message).toContain('"git push *"');
  });

  it('an allow glob covers one command, not a chain: `git status*` does not let a `; rm -rf` after it through', () => {
    mkdirSync(join(workspace, 'keep/x'), { recursive: true });
    config({ commands: { allow: ['git status*', 'echo *'], deny: ['curl *'] } });
    expect(call('git status; rm -rf keep').code).toBe('CAD_ERR_EXEC_DENIED');
    expect(call('echo a && rm -rf keep').code).toBe('CAD_ERR_EXEC_DENIED');
    expect(existsSync(join(workspace, 'keep/x'))).toBe(true);
    const chained = call('echo a; curl http://127.0.0.1:9/');
    expect(chained.code).toBe('CAD_ERR_EXEC_DENIED');
    expect(chained.message).toContain('"curl *"');
    config({ approvals: { mode: 'allowlist' }, commands: { allow: ['echo *'] } });
    expect(call('echo ok; rm -rf ./keep').code).toBe('CAD_ERR_EXEC_DENIED');
    expect(existsSync(join(workspace, 'keep/x'))).toBe(true);
    config({});
  });

  it('allowlist mode runs only what an allow glob covers', () => {
    config({ approvals: { mode: 'allowlist' }, commands: { allow: ['echo *'] } });
    expect(call('echo allowed').stdout).toBe('allowed\n');
    expect(call('ls').code).toBe('CAD_ERR_EXEC_DENIED');
    config({});
  });

  it('kills a command at its timeout, with everything it started, and caps output', () => {
    const slow = call('sleep 30 & sleep 30; echo never', { timeoutMs: 300 });
    expect(slow).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(slow.stdout).toBe('');
    const loud = call('head -c 300000 /dev/zero | tr "\\\\0" a', { maxOutputBytes: 1000 });
    expect(loud).toMatchObject({ truncated: true, exitCode: 0 });
    expect(loud.stdout.length).toBe(1000);
  });

  it('kills background jobs the command left behind when it returns', () => {
    const r = call('(sleep 2; touch late-marker) > /dev/null 2>&1 & echo started');
    expect(r).toMatchObject({ exitCode: 0, stdout: 'started\n' });
    spawnSync('sleep', ['3']);
    expect(existsSync(join(workspace, 'late-marker'))).toBe(false);
  });

  it('refuses a cwd outside the workspace', () => {
    expect(call('pwd', { cwd: '../..' }).code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
  });
});

describe('approvals through the approval hook (public kernel API)', () => {
  it('asks once/session/always/deny and remembers session and always answers', async () => {
    const { Kernel, installPlugin, enablePlugin } = await import(join(ROOT, 'dist/core/index.js'));
    const home = mkdtempSync(join(tmpdir(), 'cad-approve-'));
    const workspace = mkdtempSync(join(tmpdir(), 'cad-approve-ws-'));
    const answers: string[] = [];
    const asked: any[] = [];
    const open = () => {
      const k = new Kernel({ home, workspace });
      k.hooks.approval.tapPromise('test:answers', async (req: unknown) => { asked.push(req); return answers.shift(); });
      return k;
    };
    let k = open();
    try {
      const r = await installPlugin(k, pluginDir);
      await enablePlugin(k, r.id, { yes: true });
      const run = async (command: string) => (await k.callTool('sh_run', { command }, { caller: 'model' })).result;
      mkdirSync(join(workspace, 'a'));
      answers.push('deny');
      expect((await run('rm -r a')).code).toBe('CAD_ERR_EXEC_DENIED');
      expect(asked[0]).toMatchObject({ kind: 'command', subject: 'rm -r a', plugin: 'sh', rule: 'dangerous.rm-recursive' });
      expect(asked[0].question).toContain('rm -r a');
      expect(existsSync(join(workspace, 'a'))).toBe(true);

      answers.push('once');
      writeFileSync(join(workspace, 'f'), 'x');
      expect((await run('chmod 777 f')).exitCode).toBe(0);
      answers.push('deny');
      expect((await run('chmod 777 f')).code).toBe('CAD_ERR_EXEC_DENIED');

      answers.push('session');
      expect((await run('git reset --hard')).code).toBeUndefined();
      const before = asked.length;
      await run('git reset --hard');
      expect(asked.length).toBe(before);

      answers.push('always');
      expect((await run('find . -name nothing -delete')).exitCode).toBe(0);
      await k.close();
      k = open();
      const n = asked.length;
      expect((await run('find . -name nothing -delete')).exitCode).toBe(0);
      answers.push('once');
      expect((await run('git reset --hard')).code).toBeUndefined();
      expect(asked.length).toBe(n + 1); // "always" was kept across kernels; "session" was not
      const decisions = k.tailAudit(100, { kind: 'approval' }).map((row: any) => row.detail.answer);
      expect(decisions).toEqual(expect.arrayContaining(['deny', 'once', 'session', 'always', 'remembered']));
      await k.close();
      // The operator sees the remembered answer and takes it back through the CLI.
      const env = { ...process.env, CADUCEUS_HOME: home, NO_COLOR: '1' };
      const listed = spawnSync(join(ROOT, 'bin/caduceus.js'), ['approvals', 'list', '--json'], { env, encoding: 'utf8' });
      expect(JSON.parse(listed.stdout)).toEqual([{ kind: 'command', subject: 'find . -name nothing -delete', since: expect.any(Number) }]);
      const forgot = spawnSync(join(ROOT, 'bin/caduceus.js'), ['approvals', 'forget', 'command', 'find . -name nothing -delete'], { env, encoding: 'utf8' });
      expect(forgot.status, forgot.stderr).toBe(0);
      k = open();
      answers.push('deny');
      expect((await run('find . -name nothing -delete')).code).toBe('CAD_ERR_EXEC_DENIED');
    } finally {
      await k.close();
      rmSync(home, { recursive: true, force: true });
      rmSync(workspace, { recursive: true, force: true });
    }
  });
});
