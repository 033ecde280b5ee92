/**
 * The bundled `terminal` plugin: `terminal` and `process` through the built CLI in a temp workspace
 * (exit status, output caps, filtered environment, the command guard, approvals denied when nothing can
 * ask, timeouts that kill the whole process group, background processes ending with the CLI process),
 * and background start/poll/kill through the public kernel API, where one process lives across calls
 * (as in `caduceus chat`): approvals through the approval hook, the ring buffer, the per-plugin limit,
 * and `Kernel.close` ending everything.
 *
 * The hardline case uses a command that would fail harmlessly if the guard ever let it through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';

type Envelope = { ok: boolean; result?: any; error?: { code: string; message: string; details?: any } };
const failure = (r: Envelope) => {
  expect(r.ok).toBe(false);
  return { code: r.error!.details?.pluginError?.code ?? r.error!.code, message: r.error!.message };
};

/** Whether a process runs (a zombie nobody reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

describe('terminal through caduceus tools call', () => {
  let home: Home;
  let ws: string;
  const call = (tool: string, args: unknown, env: Record<string, string> = {}): Envelope => {
    const r = home.run(['tools', 'call', tool, JSON.stringify(args), '--json'], { cwd: ws, env });
    expect([0, 1], r.stderr).toContain(r.code);
    return r.json<Envelope>();
  };
  const ok = (tool: string, args: unknown, env: Record<string, string> = {}) => {
    const r = call(tool, args, env);
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    return r.result;
  };

  beforeAll(() => {
    home = makeHome();
    ws = tempDir('cad-term-ws-');
  });
  afterAll(() => home.cleanup());

  it('is bundled but opt-in: unavailable until the operator enables it and consents to exec', () => {
    const before = home.run(['tools', 'list', '--json']).json<any[]>().filter((t) => t.plugin === 'terminal');
    expect(before.map((t) => [t.name, t.status])).toEqual([['process', 'disabled'], ['terminal', 'disabled']]);
    expect(call('terminal', { command: 'echo hi' }).error?.code).toBe('CAD_ERR_TOOL_UNAVAILABLE');
    expect(home.run(['plugins', 'enable', 'terminal']).code).toBe(1);
    const r = home.run(['plugins', 'enable', 'terminal', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('exec');
    const tools = home.run(['tools', 'list', '--json']).json<any[]>().filter((t) => t.plugin === 'terminal');
    for (const t of tools) {
      expect(t).toMatchObject({ status: 'available', toolset: 'terminal', mutating: true, idempotent: false, availability: { permissions: ['exec'] } });
      expect(t.maxResultBytes).toBeGreaterThan(0);
    }
    expect(tools.find((t) => t.name === 'terminal').timeoutMs).toBe(600_000);
  });

  it('runs a command in the workspace and returns exit status, stdout, stderr and duration', () => {
    const r = ok('terminal', { command: 'echo out; echo err >&2; pwd; exit 3' });
    expect(r).toMatchObject({ exitCode: 3, stdout: `out\n${ws}\n`, stderr: 'err\n', timedOut: false, truncated: false });
    expect(typeof r.durationMs).toBe('number');
    mkdirSync(join(ws, 'sub'), { recursive: true });
    expect(ok('terminal', { command: 'pwd', cwd: 'sub' }).stdout).toBe(`${join(ws, 'sub')}\n`);
    expect(failure(call('terminal', { command: 'pwd', cwd: '..' })).code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
  });

  it('passes no secrets from the environment', () => {
    const r = ok('terminal', { command: 'echo "[$CAD_TEST_TOKEN][$HOME]"' }, { CAD_TEST_TOKEN: 'tok-123' });
    expect(r.stdout).toMatch(/^\[\]\[\/.+\]\n$/);
  });

  it('cuts long output from the middle and says so', () => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ plugins: { terminal: { maxOutputChars: 1000 } } }));
    const r = ok('terminal', { command: 'echo START; for i in $(seq 1 2000); do echo line$i; done; echo END' });
    expect(r.stdout.startsWith('START\n')).toBe(true);
    expect(r.stdout.endsWith('END\n')).toBe(true);
    expect(r.stdout).toContain('characters cut from the middle');
    expect(r.stdout.length).toBeLessThan(1100);
    expect(r).toMatchObject({ truncated: true, note: expect.stringContaining('cut from the middle') });
    writeFileSync(join(home.dir, 'config.json'), '{}');
  });

  it('refuses hardline commands, in the foreground and in the background', () => {
    for (const background of [false, true]) {
      const f = failure(call('terminal', { command: 'mkfs.ext4 /nonexistent/caduceus-test', background }));
      expect(f.code).toBe('CAD_ERR_EXEC_HARDLINE');
      expect(f.message).toContain('hardline.mkfs');
    }
  });

  it('denies a dangerous command when nothing can ask, and it does not run', () => {
    mkdirSync(join(ws, 'build/x'), { recursive: true });
    for (const background of [false, true]) {
      const f = failure(call('terminal', { command: 'rm -rf build', background }));
      expect(f.code).toBe('CAD_ERR_EXEC_DENIED');
      expect(f.message).toContain('approval was not given');
    }
    expect(existsSync(join(ws, 'build/x'))).toBe(true);
    const approvals = home.run(['audit', 'tail', '-n', '50', '--json', '--kind', 'approval']).json<any[]>();
    expect(approvals.at(-1)).toMatchObject({ plugin: 'terminal', outcome: 'denied', detail: { request: 'command', answer: 'no-one-to-ask' } });
  });

  it('kills the command and everything it started at the timeout', async () => {
    const r = ok('terminal', { command: 'sleep 30 & echo $! > child.pid; wait', timeout: 1 });
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(r.note).toContain('timeout');
    expect(r.durationMs).toBeLessThan(10_000);
    const child = Number(readFileSync(join(ws, 'child.pid'), 'utf8'));
    expect(await until(() => !alive(child))).toBe(true);
  });

  it('starts a background process that ends when the caduceus process exits', async () => {
    const r = ok('terminal', { command: 'sleep 60', background: true });
    expect(r).toMatchObject({ background: true, process: { id: 'p1', status: 'running', cwd: ws } });
    expect(r.note).toContain('"action":"poll"');
    // The reported pid leads the process group; the CLI has exited, so the group is gone.
    expect(await until(() => !alive(r.process.pid))).toBe(true);
    const rows = home.run(['audit', 'tail', '-n', '30', '--json']).json<any[]>();
    expect(rows.find((x) => x.kind === 'exec.start')).toMatchObject({ plugin: 'terminal', detail: { id: 'p1', program: 'sleep' } });
    expect(rows.find((x) => x.kind === 'exec.exit')).toMatchObject({ plugin: 'terminal', detail: { id: 'p1', status: 'killed', reason: 'kernel closed' } });
    // A later CLI process has its own table: the id is unknown there.
    const poll = failure(call('process', { action: 'poll', id: 'p1' }));
    expect(poll.code).toBe('CAD_ERR_PROCESS_NOT_FOUND');
    expect(ok('process', { action: 'list' })).toEqual({ processes: [] });
    expect(failure(call('process', { action: 'kill' })).code).toBe('terminal:bad_args');
  });

  it('leaves nothing running when the caduceus process is killed with SIGKILL mid-command (the lifeline)', async () => {
    const cli = spawn(BIN, ['tools', 'call', 'terminal', JSON.stringify({ command: 'sleep 60 & echo $! > kid.pid; exec sleep 61', timeout: 300 })], { cwd: ws, env: home.env, stdio: 'ignore' });
    expect(await until(() => existsSync(join(ws, 'kid.pid')) && readFileSync(join(ws, 'kid.pid'), 'utf8').endsWith('\n'), 20_000)).toBe(true);
    const kid = Number(readFileSync(join(ws, 'kid.pid'), 'utf8'));
    expect(alive(kid)).toBe(true);
    cli.kill('SIGKILL');
    expect(await until(() => !alive(kid))).toBe(true);
  });
});

describe('background processes and approvals through the kernel API (one long-lived process)', () => {
  const api = { Kernel: undefined as any, enablePlugin: undefined as any };
  let k: any;
  let ws: string;
  const run = async (tool: string, args: unknown) => {
    const r = await k.callTool(tool, args, { caller: 'model' });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    return r.result;
  };
  const fails = async (tool: string, args: unknown) => {
    const r = await k.callTool(tool, args, { caller: 'model' });
    expect(r.ok).toBe(false);
    return r.error.details?.pluginError?.code ?? r.error.code;
  };

  beforeAll(async () => {
    Object.assign(api, await import(join(ROOT, 'dist/core/index.js')));
    ws = tempDir('cad-term-api-');
    k = new api.Kernel({ home: tempDir('cad-term-home-'), workspace: ws, bundledDir: join(ROOT, 'plugins') });
    await api.enablePlugin(k, 'terminal', { yes: true });
  });
  afterAll(() => k?.close());

  it('starts, polls (waiting for output) and kills a background process', async () => {
    const started = await run('terminal', { command: 'echo ready; echo warn >&2; while true; do sleep 0.1; done', background: true });
    const id = started.process.id;
    const first = await run('process', { action: 'poll', id, wait: 5 });
    expect(first).toMatchObject({ id, status: 'running', droppedChars: 0 });
    let out = first.stdout;
    let err = first.stderr;
    for (let i = 0; i < 20 && (!out.includes('ready') || !err.includes('warn')); i++) {
      const more = await run('process', { action: 'poll', id, wait: 1 });
      out += more.stdout;
      err += more.stderr;
    }
    expect(out).toBe('ready\n');
    expect(err).toBe('warn\n');
    const again = await run('process', { action: 'poll', id });
    expect(again).toMatchObject({ stdout: '', stderr: '', status: 'running', note: 'still running' });
    expect((await run('process', { action: 'list' })).processes).toEqual([expect.objectContaining({ id, status: 'running' })]);
    const pid = started.process.pid;
    const killed = await run('process', { action: 'kill', id });
    expect(killed).toMatchObject({ id, status: 'killed' });
    expect(await until(() => !alive(pid))).toBe(true);
    expect(await fails('process', { action: 'poll', id: 'p999' })).toBe('CAD_ERR_PROCESS_NOT_FOUND');
  });

  it('reports the exit of a process that ends on its own, with its last output', async () => {
    const { process: p } = await run('terminal', { command: 'sleep 0.3; echo bye; exit 7', background: true });
    let polled: any;
    let out = '';
    for (let i = 0; i < 50; i++) {
      polled = await run('process', { action: 'poll', id: p.id, wait: 1 });
      out += polled.stdout;
      if (polled.status !== 'running') break;
    }
    expect(polled).toMatchObject({ status: 'exited', exitCode: 7 });
    expect(out).toBe('bye\n');
    const all = await run('process', { action: 'list' });
    expect(all.processes.find((x: any) => x.id === p.id)).toMatchObject({ status: 'exited', exitCode: 7 });
  });

  it('keeps at most 256 Ki characters of unread output per stream and counts what it dropped', async () => {
    const { process: p } = await run('terminal', { command: 'head -c 400000 /dev/zero | tr "\\0" a', background: true });
    let polled: any;
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const list = await run('process', { action: 'list' });
      if (list.processes.find((x: any) => x.id === p.id).status !== 'running') break;
    }
    polled = await run('process', { action: 'poll', id: p.id });
    expect(polled.status).toBe('exited');
    expect(polled.droppedChars).toBe(400_000 - 256 * 1024);
    expect(polled.note).toContain('lost');
    expect(polled.stdout.endsWith('a'.repeat(1000))).toBe(true);
  });

  it('asks the approval hook before a dangerous command, in the foreground and the background', async () => {
    const asked: string[] = [];
    let answer: 'once' | 'deny' = 'deny';
    k.hooks.approval.tapPromise('test:approver', async (req: { subject: string; plugin?: string }) => {
      asked.push(`${req.plugin}: ${req.subject}`);
      return answer;
    });
    mkdirSync(join(ws, 'junk/a'), { recursive: true });
    expect(await fails('terminal', { command: 'rm -rf junk' })).toBe('CAD_ERR_EXEC_DENIED');
    expect(existsSync(join(ws, 'junk/a'))).toBe(true);
    answer = 'once';
    expect(await run('terminal', { command: 'rm -rf junk' })).toMatchObject({ exitCode: 0 });
    expect(existsSync(join(ws, 'junk'))).toBe(false);
    mkdirSync(join(ws, 'junk2/a'), { recursive: true });
    const bg = await run('terminal', { command: 'rm -rf junk2', background: true });
    expect(bg.process.status).toBe('running');
    expect(await until(() => !existsSync(join(ws, 'junk2')))).toBe(true);
    expect(asked).toEqual(['terminal: rm -rf junk', 'terminal: rm -rf junk', 'terminal: rm -rf junk2']);
  });

  it('ends background processes of a host process that dies without closing its kernel', async () => {
    const dir = tempDir('cad-term-orphan-');
    const script = join(dir, 'host.mjs');
    writeFileSync(script, `
      const { Kernel, enablePlugin } = await import(${JSON.stringify(join(ROOT, 'dist/core/index.js'))});
      const k = new Kernel({ home: ${JSON.stringify(join(dir, 'home'))}, workspace: ${JSON.stringify(dir)}, bundledDir: ${JSON.stringify(join(ROOT, 'plugins'))} });
      await enablePlugin(k, 'terminal', { yes: true });
      const r = await k.callTool('terminal', { command: 'echo $$ > bg.pid; exec sleep 62', background: true }, { caller: 'model' });
      process.stdout.write(JSON.stringify(r.ok) + '\\n');
      setInterval(() => {}, 1000);
    `);
    const host = spawn(process.execPath, ['--no-node-snapshot', script], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
    let said = '';
    host.stdout.on('data', (d) => (said += d));
    expect(await until(() => said.includes('true') && existsSync(join(dir, 'bg.pid')) && readFileSync(join(dir, 'bg.pid'), 'utf8').endsWith('\n'), 20_000)).toBe(true);
    const pid = Number(readFileSync(join(dir, 'bg.pid'), 'utf8'));
    expect(alive(pid)).toBe(true);
    host.kill('SIGKILL');
    expect(await until(() => !alive(pid))).toBe(true);
  });

  it('refuses a ninth running process, then Kernel.close ends every one', async () => {
    const pids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await k.callTool('terminal', { command: 'sleep 60', background: true }, { caller: 'model' });
      if (!r.ok) break;
      pids.push(r.result.process.pid);
    }
    const running = (await run('process', { action: 'list' })).processes.filter((x: any) => x.status === 'running');
    expect(running.length).toBe(8);
    expect(await fails('terminal', { command: 'sleep 60', background: true })).toBe('CAD_ERR_PROCESS_LIMIT');
    const { unsettled } = await k.close();
    expect(unsettled).toEqual([]);
    for (const pid of pids) expect(await until(() => !alive(pid))).toBe(true);
    k = undefined;
  });
});
