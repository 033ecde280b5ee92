/**
 * Background processes for plugins with the `exec` permission (`ctx.processes`). A start passes the
 * same command guard as `exec` (hardline never, deny/allow globs, approval for dangerous commands), then
 * runs the command in its own process group in the workspace, with the filtered environment. Output
 * goes into a bounded buffer per stream; a poll takes what arrived since the previous poll (and says how
 * much the buffer had to drop). A kill, a timeout, the leader's exit and the kernel's close all end the
 * whole group, and the lifeline (exec.ts, `spawnGroup`) ends it when the host dies any other way, so
 * nothing a command started outlives the `caduceus` process that started it.
 *
 * One table per kernel; each plugin sees only its own processes.
 */
import type { ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { CaduceusError } from '../errors.js';
import { digest } from '../audit.js';
import { clamp, filteredEnv, guardCommand, insideWorkspace, program, spawnGroup, type ExecDeps } from './exec.js';
import type { ProcessInfo, ProcessOutput, ProcessStartOptions } from '../../sdk/types.js';

/** Unread output kept per stream between polls; older unread output is dropped (and counted). */
export const RING_CHARS = 256 * 1024;
/** Running background processes per plugin. */
export const MAX_RUNNING = 8;
/** Finished processes kept per plugin for a last poll; the oldest finished ones are forgotten first. */
const MAX_FINISHED = 32;
/** A background command's optional time limit may be at most a day. */
const MAX_TIMEOUT_MS = 24 * 60 * 60 * 1000;
/** How long a poll may wait for output or an exit. */
const MAX_WAIT_MS = 60_000;
/** Grace between SIGTERM and SIGKILL when a plugin kills a process. */
const KILL_GRACE_MS = 1_000;

class Ring {
  private parts: string[] = [];
  private size = 0;
  dropped = 0;
  private readonly decoder = new StringDecoder('utf8');

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (!text) return;
    this.parts.push(text);
    this.size += text.length;
    while (this.size > RING_CHARS) {
      const over = this.size - RING_CHARS;
      const first = this.parts[0]!;
      if (first.length <= over) {
        this.parts.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.parts[0] = first.slice(over);
        this.size -= over;
        this.dropped += over;
      }
    }
  }

  end(): void {
    const rest = this.decoder.end();
    if (rest) this.push(rest);
  }

  take(): { text: string; dropped: number } {
    const out = { text: this.parts.join(''), dropped: this.dropped };
    this.parts = [];
    this.size = 0;
    this.dropped = 0;
    return out;
  }

  get pending(): number {
    return this.size;
  }
}

interface Entry {
  id: string;
  plugin: string;
  command: string;
  normalized: string;
  cwd: string;
  child: ChildProcess;
  pid: number | null;
  status: ProcessInfo['status'];
  exitCode: number | null;
  signal: string | null;
  startedAt: number;
  t0: number;
  endedMs: number | undefined;
  out: Ring;
  err: Ring;
  timer: NodeJS.Timeout | undefined;
  /** Set when the plugin (or the kernel) asked for the kill, so the exit is reported as killed. */
  killReason: 'killed' | 'timed_out' | undefined;
  /** The exit row was written when the host killed it (plugin stopped, kernel closed). */
  exitAudited: boolean;
  waiters: Array<() => void>;
  closed: Promise<void>;
  audit: ExecDeps['audit'];
}

export class ProcessTable {
  private readonly entries = new Map<string, Entry>();
  private next = 1;
  private shutDown = false;
  /** Belt and braces beside the lifeline: a host that exits normally without closing its kernel. */
  private readonly onExit = () => this.killAllNow();
  private listening = false;

  /** Starts a background command after the guard; resolves to its info (status `running`). */
  async start(d: ExecDeps, command: unknown, opts: ProcessStartOptions = {}): Promise<ProcessInfo> {
    const { check, allowedBy } = await guardCommand(d, command);
    const text = command as string;
    if (this.shutDown) {
      throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${d.plugin}' tried to start a background process while the kernel is closing.`, { plugin: d.plugin });
    }
    const running = [...this.entries.values()].filter((e) => e.plugin === d.plugin && e.status === 'running');
    if (running.length >= MAX_RUNNING) {
      throw new CaduceusError('CAD_ERR_PROCESS_LIMIT',
        `Plugin '${d.plugin}' already runs ${running.length} background processes (${running.map((e) => e.id).join(', ')}), the most one plugin may run at once. Kill one first (process ids from ctx.processes.list()).`,
        { plugin: d.plugin, details: { running: running.map((e) => e.id) } });
    }
    if ((opts.cwd !== undefined && typeof opts.cwd !== 'string') || (opts.input !== undefined && typeof opts.input !== 'string')) {
      throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${d.plugin}' passed process.start a cwd or input that is not a string.`, { plugin: d.plugin });
    }
    const cwd = insideWorkspace(d, opts.cwd);
    // Its own process group, so a kill or a timeout reaches everything the command started; the lifeline
    // ends that group even if this process dies without closing its kernel.
    const child = spawnGroup(text, cwd, filteredEnv(d.envGrants));
    const id = `p${this.next++}`;
    let closedResolve!: () => void;
    const entry: Entry = {
      id, plugin: d.plugin, command: text, normalized: check.normalized, cwd, child, pid: child.pid ?? null,
      status: 'running', exitCode: null, signal: null, startedAt: Date.now(), t0: performance.now(), endedMs: undefined,
      out: new Ring(), err: new Ring(), timer: undefined, killReason: undefined, exitAudited: false, waiters: [],
      closed: new Promise((r) => (closedResolve = r)), audit: d.audit,
    };
    this.entries.set(id, entry);
    this.listen(true);
    child.stdout!.on('data', (c: Buffer) => { entry.out.push(c); wake(entry); });
    child.stderr!.on('data', (c: Buffer) => { entry.err.push(c); wake(entry); });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
    const timeoutMs = clamp(opts.timeoutMs, 0, MAX_TIMEOUT_MS);
    if (timeoutMs > 0) {
      entry.timer = setTimeout(() => { entry.killReason ??= 'timed_out'; killGroup(entry, 'SIGKILL'); }, timeoutMs);
      entry.timer.unref();
    }
    const finish = (exitCode: number | null, signal: string | null) => {
      if (entry.status !== 'running') return;
      if (entry.timer) clearTimeout(entry.timer);
      killGroup(entry, 'SIGKILL');
      child.stdio[3]?.destroy();
      entry.out.end();
      entry.err.end();
      entry.exitCode = exitCode;
      entry.signal = signal;
      entry.status = entry.killReason ?? 'exited';
      entry.endedMs = performance.now() - entry.t0;
      if (!entry.exitAudited) {
        entry.exitAudited = true;
        d.audit({
          ts: Date.now(), kind: 'exec.exit', plugin: d.plugin, outcome: entry.status === 'timed_out' ? 'timeout' : 'ok', argsDigest: digest(text),
          durationUs: Math.round(entry.endedMs * 1000), detail: { id, program: program(check.normalized), status: entry.status, exitCode, signal },
        });
      }
      wake(entry);
      closedResolve();
      this.prune(d.plugin);
      if (![...this.entries.values()].some((e) => e.status === 'running')) this.listen(false);
    };
    child.on('error', (e) => { entry.err.push(String(e.message)); finish(127, null); });
    // Whatever the leader left running in its group ends with it, as for exec; that also closes the
    // pipes a leftover child would hold open, so 'close' (all output read) follows the leader's exit.
    child.on('exit', () => killGroup(entry, 'SIGKILL'));
    child.on('close', (code, signal) => finish(code, signal));
    d.audit({
      ts: Date.now(), kind: 'exec.start', plugin: d.plugin, outcome: 'ok', argsDigest: digest(text),
      detail: { id, pid: entry.pid, program: program(check.normalized), verdict: check.verdict, rule: check.rule, allowedBy, timeoutMs: timeoutMs || undefined },
    });
    return info(entry);
  }

  list(plugin: string): ProcessInfo[] {
    return [...this.entries.values()].filter((e) => e.plugin === plugin).map(info);
  }

  /** Output since the last poll and the status; waits up to waitMs for new output or the exit. */
  async poll(plugin: string, id: unknown, waitMs?: unknown): Promise<ProcessOutput> {
    const entry = this.get(plugin, id);
    const wait = clamp(waitMs, 0, MAX_WAIT_MS);
    if (wait > 0 && entry.status === 'running' && entry.out.pending === 0 && entry.err.pending === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, wait);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        entry.waiters.push(done);
      });
    }
    const out = entry.out.take();
    const err = entry.err.take();
    return { ...info(entry), stdout: out.text, stderr: err.text, droppedChars: out.dropped + err.dropped };
  }

  /** Ends the process group: SIGTERM, then SIGKILL after a grace second; resolves once it has exited. */
  async kill(plugin: string, id: unknown): Promise<ProcessInfo> {
    const entry = this.get(plugin, id);
    if (entry.status === 'running') {
      entry.killReason ??= 'killed';
      killGroup(entry, 'SIGTERM');
      const hard = setTimeout(() => killGroup(entry, 'SIGKILL'), KILL_GRACE_MS);
      await entry.closed;
      clearTimeout(hard);
    }
    return info(entry);
  }

  /** Kills every process of one plugin (its plugin stopped); audited per process. */
  killPlugin(plugin: string, reason: string): void {
    for (const e of this.entries.values()) if (e.plugin === plugin && e.status === 'running') this.killNow(e, reason);
  }

  /** Kills everything, synchronously (kernel close); later starts are refused. */
  closeAll(reason = 'kernel closed'): void {
    for (const e of this.entries.values()) if (e.status === 'running') this.killNow(e, reason);
    this.shutDown = true;
    this.listen(false);
  }

  private listen(on: boolean): void {
    if (on === this.listening) return;
    this.listening = on;
    if (on) process.on('exit', this.onExit);
    else process.off('exit', this.onExit);
  }

  private killNow(e: Entry, reason: string): void {
    e.killReason ??= 'killed';
    killGroup(e, 'SIGKILL');
    if (e.exitAudited) return;
    e.exitAudited = true;
    e.audit({ ts: Date.now(), kind: 'exec.exit', plugin: e.plugin, outcome: 'ok', argsDigest: digest(e.command), detail: { id: e.id, program: program(e.normalized), status: 'killed', reason } });
  }

  /** Last resort when the host process exits without closing its kernel: no audit, just the kill. */
  private killAllNow(): void {
    for (const e of this.entries.values()) if (e.status === 'running') killGroup(e, 'SIGKILL');
  }

  private get(plugin: string, id: unknown): Entry {
    const entry = typeof id === 'string' ? this.entries.get(id) : undefined;
    if (!entry || entry.plugin !== plugin) {
      const known = this.list(plugin).map((p) => p.id);
      throw new CaduceusError('CAD_ERR_PROCESS_NOT_FOUND',
        `Plugin '${plugin}' has no background process ${JSON.stringify(id)}${known.length ? ` (it has ${known.join(', ')})` : ''}. Background processes last as long as the caduceus process that started them; list them with ctx.processes.list().`,
        { plugin, details: { id } });
    }
    return entry;
  }

  private prune(plugin: string): void {
    const finished = [...this.entries.values()].filter((e) => e.plugin === plugin && e.status !== 'running');
    for (const e of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED))) this.entries.delete(e.id);
  }
}

function wake(e: Entry): void {
  const waiters = e.waiters;
  e.waiters = [];
  for (const w of waiters) w();
}

function killGroup(e: Entry, signal: NodeJS.Signals): void {
  if (e.pid === null) return;
  try {
    process.kill(-e.pid, signal);
  } catch {
    // the group is already gone
  }
}

function info(e: Entry): ProcessInfo {
  return {
    id: e.id, command: e.command.length > 500 ? `${e.command.slice(0, 500)}…` : e.command, cwd: e.cwd, pid: e.pid,
    status: e.status, exitCode: e.exitCode, signal: e.signal, startedAt: e.startedAt,
    durationMs: Math.round(e.endedMs ?? performance.now() - e.t0),
  };
}
