/**
 * terminal: shell commands for models, through the host's `exec` syscall and nothing else. Every command,
 * foreground or background, passes the host's command guard first: hardline commands never run, the
 * operator's deny/allow globs apply, dangerous ones need the operator's approval (asked through the
 * approval hook; with nobody to ask, refused). Commands run with /bin/sh in the workspace with a filtered
 * environment (no secrets unless granted as env:<NAME>), a timeout that kills the whole process group,
 * and output cut to a size a model can read.
 *
 * Opt-in (not enabled by default): the guard stops destructive commands, but an ordinary command can
 * still read files outside the workspace or reach the network, which the files tools never can. The
 * operator turns it on with `caduceus plugins enable terminal`, consenting to `exec`.
 */
import { definePlugin, defineTool, z } from 'caduceus/sdk';
import { headTail, maxChars, tail } from './output.js';

/** Foreground commands: default and ceiling, in seconds (the ceiling stays inside the tool's own 600 s). */
const DEFAULT_TIMEOUT_S = 120;
const MAX_TIMEOUT_S = 540;
/** What exec captures per stream before the plugin cuts it down (head and tail of this much). */
const CAPTURE_BYTES = 4 * 1024 * 1024;

const processInfo = z.object({
  id: z.string(),
  command: z.string(),
  cwd: z.string(),
  pid: z.number().nullable(),
  status: z.enum(['running', 'exited', 'killed', 'timed_out']),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  startedAt: z.number(),
  durationMs: z.number(),
});

const terminal = defineTool({
  name: 'terminal',
  description: `Runs a shell command (/bin/sh -c) in the workspace and returns its exit code, stdout, stderr and duration. Each call is a fresh shell: cd and variables do not carry over (use "cd dir && cmd", or cwd). Dangerous commands (recursive deletes, force pushes, piping downloads into a shell, …) need the operator's approval and may be refused; some never run. Output over the limit is cut from the middle. Default timeout ${DEFAULT_TIMEOUT_S} s, at most ${MAX_TIMEOUT_S} s; the command and everything it started are killed at the timeout. For servers, watchers and other long-running commands use background: true, then the process tool to read their output or stop them; do not end a command with "&".`,
  input: z.object({
    command: z.string().min(1).max(100_000).describe('The shell command'),
    timeout: z.number().min(1).max(MAX_TIMEOUT_S).optional().describe(`Seconds before the command is killed; default ${DEFAULT_TIMEOUT_S} (foreground), none (background)`),
    background: z.boolean().optional().describe('Start it in the background and return its process id at once; default false'),
    cwd: z.string().min(1).max(4096).optional().describe('Folder to run in, relative to the workspace; default the workspace'),
  }),
  output: z.union([
    z.object({
      exitCode: z.number().nullable(),
      signal: z.string().nullable(),
      stdout: z.string(),
      stderr: z.string(),
      timedOut: z.boolean(),
      truncated: z.boolean(),
      durationMs: z.number(),
      note: z.string().optional(),
    }),
    z.object({ background: z.literal(true), process: processInfo, note: z.string() }),
  ]),
  toolset: 'terminal',
  mutating: true,
  idempotent: false,
  timeoutMs: 600_000,
  maxResultBytes: 512 * 1024,
  availability: { permissions: ['exec'] },
  handler: async ({ command, timeout, background, cwd }, ctx) => {
    if (background) {
      const p = await ctx.processes.start(command, { ...(cwd ? { cwd } : {}), ...(timeout ? { timeoutMs: timeout * 1000 } : {}) });
      return {
        background: true as const,
        process: p,
        note: `started as ${p.id}. Read its output with the process tool ({"action":"poll","id":"${p.id}","wait":5}); stop it with {"action":"kill","id":"${p.id}"}. It ends when this caduceus process ends.`,
      };
    }
    const r = await ctx.exec(command, { ...(cwd ? { cwd } : {}), timeoutMs: (timeout ?? DEFAULT_TIMEOUT_S) * 1000, maxOutputBytes: CAPTURE_BYTES });
    const max = maxChars(ctx.config);
    const out = headTail(r.stdout, max);
    const err = headTail(r.stderr, max);
    const notes: string[] = [];
    if (r.timedOut) notes.push(`killed after ${timeout ?? DEFAULT_TIMEOUT_S} s (timeout); raise timeout, or use background: true for long-running commands`);
    if (r.truncated) notes.push(`output past ${CAPTURE_BYTES} bytes per stream was not captured`);
    if (out.cut || err.cut) notes.push(`${out.cut + err.cut} characters were cut from the middle of the output; redirect it to a file and read or search that for the rest`);
    const result = {
      exitCode: r.exitCode, signal: r.signal, stdout: out.text, stderr: err.text, timedOut: r.timedOut,
      truncated: r.truncated || out.cut > 0 || err.cut > 0, durationMs: r.durationMs,
    };
    return notes.length ? { ...result, note: notes.join('; ') } : result;
  },
});

const processTool = defineTool({
  name: 'process',
  description: 'Manages background commands started with terminal (background: true). action "list": every one with its status. "poll": the output since the previous poll and the status (exited processes report their exit code); wait up to `wait` seconds for new output first. "kill": stops it and everything it started.',
  input: z.object({
    action: z.enum(['list', 'poll', 'kill']),
    id: z.string().min(1).max(64).optional().describe('Process id from terminal, e.g. "p1"; needed for poll and kill'),
    wait: z.number().min(0).max(60).optional().describe('poll only: seconds to wait for new output or the exit; default 0'),
  }),
  output: z.union([
    z.object({ processes: z.array(processInfo) }),
    processInfo.extend({ stdout: z.string(), stderr: z.string(), droppedChars: z.number(), note: z.string().optional() }),
  ]),
  toolset: 'terminal',
  mutating: true,
  idempotent: false,
  timeoutMs: 90_000,
  maxResultBytes: 512 * 1024,
  availability: { permissions: ['exec'] },
  handler: async ({ action, id, wait }, ctx) => {
    if (action === 'list') return { processes: await ctx.processes.list() };
    if (!id) {
      const err = new Error(`action "${action}" needs id, the process id terminal returned (e.g. "p1"); action "list" shows them.`) as Error & { code: string };
      err.code = 'terminal:bad_args';
      throw err;
    }
    if (action === 'kill') {
      const p = await ctx.processes.kill(id);
      return { ...p, stdout: '', stderr: '', droppedChars: 0, note: `${id} is ${p.status}` };
    }
    const p = await ctx.processes.poll(id, { waitMs: (wait ?? 0) * 1000 });
    const max = maxChars(ctx.config);
    const out = tail(p.stdout, max);
    const err = tail(p.stderr, max);
    const notes: string[] = [];
    if (p.droppedChars) notes.push(`${p.droppedChars} characters of output were lost because it was not polled in time`);
    if (out.cut || err.cut) notes.push(`${out.cut + err.cut} earlier characters were cut; poll more often to see everything`);
    if (p.status === 'running') notes.push('still running');
    const result = { ...p, stdout: out.text, stderr: err.text };
    return notes.length ? { ...result, note: notes.join('; ') } : result;
  },
});

export default definePlugin({ tools: [terminal, processTool] });
