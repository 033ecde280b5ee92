/**
 * Running a plugin's CLI command: resolve the one enabled plugin that serves the name, start it, call the
 * command's `run` in its isolate, and route what it prints to the caller as it prints it. `io.print` and
 * `io.error` reach the host as the synchronous syscall `command.output`, carrying a run token that only
 * this run knows, so a plugin can write to its own live runs and nothing else. Each run writes one
 * `command.run` audit row (arguments as a digest, like tool calls). An abort (Ctrl-C in the CLI) stops
 * the plugin's isolate, which also closes whatever it was watching, and reports exit code 130.
 */
import { CaduceusError } from './errors.js';
import { digest } from './audit.js';
import { resolveCommand } from './commands.js';
import type { AuditOutcome } from './audit.js';
import type { Kernel } from './kernel.js';

/** setTimeout's ceiling (≈24.8 days): what "no wall-clock limit" (timeoutMs 0) becomes. */
const NO_WALL_CLOCK_MS = 2_147_483_647;
/** CPU budget of one entry into the isolate during a command (the run itself, each continuation). */
export const COMMAND_SLICE_MS = 10_000;
/** One `io.print` call carries at most this much text; longer text is cut with a note. */
const MAX_OUTPUT_CHARS = 1024 * 1024;

export interface RunCommandOptions {
  /** The operator passed `--json` (the CLI strips it from argv). */
  json?: boolean;
  print(text: string): void;
  error(text: string): void;
  /** Aborting stops the command's isolate; the run then resolves with exit code 130. */
  signal?: AbortSignal;
}

export interface CommandRunResult {
  command: string;
  plugin: string;
  exitCode: number;
  interrupted: boolean;
  durationUs: number;
}

/** A run in progress, as the syscalls of its plugin see it. */
export interface LiveRun {
  plugin: string;
  command: string;
  argv: readonly string[];
  print(text: string): void;
  error(text: string): void;
  /** Cleanup the run's syscalls registered (e.g. staged files), done when the run ends. */
  onEnd(fn: () => void): void;
}

const runs = new Map<string, LiveRun & { enders: (() => void)[] }>();
let nextRun = 0;

/** The live runs of one plugin (a plugin sees only its own). */
export function liveRunsOf(plugin: string): LiveRun[] {
  return [...runs.values()].filter((r) => r.plugin === plugin);
}

/** The `command.output` syscall: one line to the run's stdout or stderr. */
export function commandOutput(plugin: string, args: Record<string, unknown>): null {
  const token = args.run;
  const run = typeof token === 'string' ? runs.get(token) : undefined;
  if (!run || run.plugin !== plugin) {
    throw new CaduceusError('CAD_ERR_SYSCALL_INVALID',
      `Plugin '${plugin}' wrote command output outside a running command (io.print/io.error after its run ended). Print only while run() is running.`, { plugin });
  }
  let text = typeof args.text === 'string' ? args.text : String(args.text);
  if (text.length > MAX_OUTPUT_CHARS) text = `${text.slice(0, MAX_OUTPUT_CHARS)}\n… (${text.length - MAX_OUTPUT_CHARS} more characters cut)`;
  if (args.stream === 'err') run.error(text);
  else run.print(text);
  return null;
}

const INTERRUPTED = Symbol('interrupted');

/**
 * Runs `caduceus <name> ...argv` in the plugin that serves it. Resolves with the exit code the command
 * returned (0 for nothing); rejects with a coded error when no plugin can serve it, when `run` throws
 * (CAD_ERR_COMMAND_FAILED) or returns something that is not an exit code, or when its isolate fails.
 */
export async function runPluginCommand(k: Kernel, name: string, argv: readonly string[], opts: RunCommandOptions): Promise<CommandRunResult> {
  const entry = resolveCommand(k.plugins(), name);
  const { plugin, declaration } = entry;
  const token = `${process.pid}.${++nextRun}.${Math.random().toString(36).slice(2)}`;
  const enders: (() => void)[] = [];
  runs.set(token, { plugin, command: name, argv: [...argv], print: opts.print, error: opts.error, onEnd: (fn) => enders.push(fn), enders });
  const t0 = performance.now();
  const subcommand = declaration.subcommands.find((s) => s.name === argv[0])?.name;
  const audit = (outcome: AuditOutcome, extra: { code?: string; exitCode?: number; interrupted?: boolean }) => k.audit({
    ts: Date.now(), kind: 'command.run', plugin, caller: 'operator', outcome, code: extra.code,
    durationUs: Math.round((performance.now() - t0) * 1000), argsDigest: digest(JSON.stringify(argv)),
    detail: { command: name, subcommand, exitCode: extra.exitCode, interrupted: extra.interrupted },
  });
  const result = (exitCode: number, interrupted: boolean): CommandRunResult => ({ command: name, plugin, exitCode, interrupted, durationUs: Math.round((performance.now() - t0) * 1000) });
  let onAbort: (() => void) | undefined;
  try {
    const aborted = new Promise<typeof INTERRUPTED>((resolve) => {
      onAbort = () => resolve(INTERRUPTED);
      if (opts.signal?.aborted) onAbort();
      else opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const started = await Promise.race([k.activate(plugin), aborted]);
    let value: unknown = INTERRUPTED;
    if (started !== INTERRUPTED) {
      const wallClock = declaration.timeoutMs === 0 ? NO_WALL_CLOCK_MS : declaration.timeoutMs;
      value = await Promise.race([started.invoke('command', name, JSON.stringify({ argv, json: opts.json === true, run: token }), {
        timeoutMs: wallClock, sliceMs: Math.min(wallClock, COMMAND_SLICE_MS), maxBytes: 4096,
        thrownCode: 'CAD_ERR_COMMAND_FAILED', command: name, caller: 'operator',
      }), aborted]);
    }
    if (value === INTERRUPTED) {
      // Stopping the isolate ends the run and closes its watches; the next command starts it afresh.
      await k.deactivate(plugin, `command '${name}' interrupted`);
      audit('ok', { exitCode: 130, interrupted: true });
      return result(130, true);
    }
    if (value !== null && value !== undefined && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 255)) {
      throw new CaduceusError('CAD_ERR_COMMAND_FAILED',
        `Plugin '${plugin}' command '${name}' returned ${JSON.stringify(value)?.slice(0, 100)}, which is not an exit code. Return an integer from 0 to 255, or nothing for 0.`,
        { plugin, details: { command: name } });
    }
    const exitCode = (value ?? 0) as number;
    audit(exitCode === 0 ? 'ok' : 'error', { exitCode });
    return result(exitCode, false);
  } catch (err) {
    const code = (err as { code?: string }).code;
    audit(code === 'CAD_ERR_SANDBOX_TIMEOUT' ? 'timeout' : code === 'CAD_ERR_SANDBOX_CRASHED' || code === 'CAD_ERR_SANDBOX_MEMORY' ? 'crash' : 'error', { code: code ?? 'CAD_ERR_COMMAND_FAILED' });
    throw err;
  } finally {
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    runs.delete(token);
    for (const end of enders) {
      try {
        end();
      } catch {
        // cleanup is best effort; the next run starts clean anyway
      }
    }
  }
}
