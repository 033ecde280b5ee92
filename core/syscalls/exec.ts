/**
 * The `exec` syscall: runs one shell command for a plugin with the `exec` permission, after the command
 * guard. Order: normalise and classify (core/safety/command.ts) → hardline commands never run, in any
 * mode → the operator's deny globs → allow globs run without asking → in allowlist mode nothing else
 * runs → dangerous commands need approval (the `approval` hook) → run. The command runs in the
 * workspace with a filtered environment (no secrets unless granted as env:<NAME>), a timeout that kills
 * its whole process group, and capped stdout/stderr; a lifeline kills that group if this process dies
 * first. Every decision and every run is audited. The guard and the spawning are shared with background
 * processes (processes.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve, relative, isAbsolute, sep } from 'node:path';
import { CaduceusError } from '../errors.js';
import { digest, type AuditEvent } from '../audit.js';
import { checkCommand } from '../safety/command.js';
import { decideCommand } from '../safety/policy.js';
import type { ApprovalMode, ApprovalRequest } from '../approvals.js';
import type { ExecOptions, ExecResult } from '../../sdk/types.js';

export interface ExecPolicy {
  allow: string[];
  deny: string[];
  mode: ApprovalMode;
}

export interface ExecDeps {
  plugin: string;
  workspace: string;
  /** Environment variable names the plugin was granted (env:<NAME>); passed through to the command. */
  envGrants: ReadonlySet<string>;
  policy: () => ExecPolicy;
  approve: (req: ApprovalRequest) => Promise<boolean>;
  audit: (e: AuditEvent) => void;
}

/** The syscall's arguments: the command plus the options plugins pass (one definition, the SDK's). */
export type ExecRequest = ExecOptions & { command: string };
export type { ExecResult };

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_TIMEOUT_MS = 600_000;
const DEFAULT_OUTPUT = 1024 * 1024;
const MAX_OUTPUT = 16 * 1024 * 1024;
/** What a command may see of the host's environment without a grant: nothing that holds a credential. */
const BASE_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TERM', 'TZ', 'TMPDIR'];

/** What the guard decided for a command that may run: the classification and the globs that allowed it. */
export interface GuardedCommand {
  check: ReturnType<typeof checkCommand>;
  allowedBy: string[] | undefined;
}

/**
 * The command guard, shared by `exec` and background starts (processes.ts): validates the command, then
 * hardline → deny globs → allow globs → allowlist mode → approval for dangerous commands. Throws the coded
 * refusal (with its audit row); resolves when the command may run.
 */
export async function guardCommand(d: ExecDeps, command: unknown): Promise<GuardedCommand> {
  if (typeof command !== 'string' || command.trim() === '' || command.length > 100_000) {
    throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${d.plugin}' passed exec an empty or oversized command (1 to 100000 characters).`, { plugin: d.plugin });
  }
  const check = checkCommand(command);
  const policy = d.policy();
  const refuse = (code: 'CAD_ERR_EXEC_HARDLINE' | 'CAD_ERR_EXEC_DENIED', why: string, detail: Record<string, unknown>): never => {
    d.audit({ ts: Date.now(), kind: 'exec.denied', plugin: d.plugin, outcome: 'denied', code, argsDigest: digest(command), detail: { verdict: check.verdict, rule: check.rule, program: program(check.normalized), ...detail } });
    throw new CaduceusError(code, `Plugin '${d.plugin}' may not run ${JSON.stringify(clip(check.normalized))}: ${why}`, { plugin: d.plugin, details: { rule: check.rule, verdict: check.verdict } });
  };
  // The same decision `caduceus guards check command` prints: globs are matched per command on the line,
  // so an allow glob for `git status*` does not also let `; git push --force` through.
  const decision = decideCommand(check, policy, policy.mode);
  switch (decision.verdict) {
    case 'hardline':
      return refuse('CAD_ERR_EXEC_HARDLINE', `${check.reason} (rule ${check.rule}). Hardline commands never run, whatever the mode or config.`, {});
    case 'denied':
      return refuse('CAD_ERR_EXEC_DENIED', `${decision.reason}.${decision.rule === 'config.allowlist' ? ' Add a glob to security.commands.allow if it should run.' : ''}`, { glob: decision.glob, by: decision.rule });
    case 'dangerous': {
      const ok = await d.approve({
        kind: 'command', subject: check.normalized, caller: `plugin:${d.plugin}`, plugin: d.plugin, rule: decision.rule,
        question: `Run \`${clip(check.normalized)}\`? It ${check.reason} (rule ${decision.rule}).`,
      });
      if (!ok) refuse('CAD_ERR_EXEC_DENIED', `${check.reason} (rule ${decision.rule}) and approval was not given. Approve it when asked, or add a glob to security.commands.allow.`, {});
      break;
    }
    default:
      break;
  }
  return { check, allowedBy: decision.verdict === 'allowed' ? decision.globs : undefined };
}

export async function execCommand(d: ExecDeps, req: ExecRequest): Promise<ExecResult> {
  const command = req.command;
  const { check, allowedBy } = await guardCommand(d, command);
  const cwd = insideWorkspace(d, req.cwd);
  const result = await run(command, cwd, filteredEnv(d.envGrants), clamp(req.timeoutMs, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS), clamp(req.maxOutputBytes, DEFAULT_OUTPUT, MAX_OUTPUT), req.input);
  d.audit({
    ts: Date.now(), kind: 'exec', plugin: d.plugin, outcome: result.timedOut ? 'timeout' : 'ok', argsDigest: digest(command), durationUs: result.durationMs * 1000,
    detail: { program: program(check.normalized), verdict: check.verdict, rule: check.rule, allowedBy, exitCode: result.exitCode, signal: result.signal, truncated: result.truncated },
  });
  return result;
}

export function program(normalized: string): string {
  return normalized.split(/\s+/)[0] ?? '';
}

export function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

export function clamp(v: unknown, fallback: number, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, max) : fallback;
}

export function insideWorkspace(d: Pick<ExecDeps, 'plugin' | 'workspace'>, cwd: string | undefined): string {
  if (cwd === undefined) return d.workspace;
  const abs = resolve(d.workspace, cwd);
  const rel = relative(d.workspace, abs);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new CaduceusError('CAD_ERR_FS_OUTSIDE_ROOT', `Plugin '${d.plugin}' asked exec to run in ${JSON.stringify(cwd)}, outside the workspace '${d.workspace}'.`, { plugin: d.plugin });
  }
  return abs;
}

export function filteredEnv(grants: ReadonlySet<string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of Object.keys(process.env)) {
    if (BASE_ENV.includes(name) || name.startsWith('LC_') || grants.has(name)) env[name] = process.env[name];
  }
  return env;
}

function run(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number, maxBytes: number, input: string | undefined): Promise<ExecResult> {
  const t0 = performance.now();
  return new Promise((done) => {
    const child = spawnGroup(command, cwd, env);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let truncated = false;
    let timedOut = false;
    const take = (chunks: Buffer[], size: number, chunk: Buffer): number => {
      const room = maxBytes - size;
      if (room <= 0) { truncated = true; return size; }
      if (chunk.length > room) { truncated = true; chunks.push(chunk.subarray(0, room)); return maxBytes; }
      chunks.push(chunk);
      return size + chunk.length;
    };
    child.stdout!.on('data', (c: Buffer) => { outBytes = take(out, outBytes, c); });
    child.stderr!.on('data', (c: Buffer) => { errBytes = take(err, errBytes, c); });
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => { timedOut = true; kill(); }, timeoutMs);
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input ?? '');
    const finish = (exitCode: number | null, signal: string | null) => {
      clearTimeout(timer);
      // Nothing the command started outlives the call: background jobs left in its group are killed.
      kill();
      child.stdio[3]?.destroy();
      done({
        exitCode, signal, truncated, timedOut,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
        durationMs: Math.round(performance.now() - t0),
      });
    };
    child.on('error', (e) => { err.push(Buffer.from(String(e.message))); finish(127, null); });
    // When the shell exits, the rest of its group goes too (the lifeline watcher included, which closes
    // the last pipe, so 'close' follows once the output is read).
    child.on('exit', () => kill());
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/**
 * The lifeline: a watcher in the command's process group blocks reading fd 3, a socket whose other end
 * only this host process holds, and kills the whole group when it reads end of file, which happens however
 * the host ends (kernel close, Ctrl-C, a crash, SIGKILL). The command itself runs as `/bin/sh -c "$1"`
 * with the original stdin and stderr (saved on fds 4 and 5) and without fd 3; the wrapper's own messages go
 * to /dev/null, and it exits with the command's status (128+n when a signal ended the command).
 */
const LIFELINE = 'exec 4<&0 5>&2 2>/dev/null; { read -r _ <&3; kill -KILL 0; } </dev/null >/dev/null 4<&- 5>&- & '
  + '/bin/sh -c -- "$1" <&4 2>&5 3<&- 4<&- 5>&- & c=$!; exec 4<&- 5>&-; wait "$c"';

/**
 * Starts a command as the leader of its own process group (so a kill reaches everything it started) with a
 * lifeline, so nothing it started outlives this process. stdio: stdin, stdout, stderr, lifeline.
 */
export function spawnGroup(command: string, cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn('/bin/sh', ['-c', LIFELINE, 'sh', command], { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
}
