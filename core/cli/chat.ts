/**
 * `caduceus chat`: the REPL on top of the agent loop. Tokens stream as they arrive, each tool call gets
 * one progress line (name, status, duration), Ctrl-C cancels the running turn and keeps the session,
 * `/help`, `/tools`, `/model`, `/new`, `/session`, `/exit` are built in, and plugins (skills among them)
 * add slash commands through the resolveCommands/runCommand hooks. When stdin is a terminal, approval
 * questions from guards are asked inline and answered on the next line; otherwise they are denied.
 */
import { createInterface } from 'node:readline';
import { withKernel } from './open.js';
import { c, EXIT } from './output.js';
import { progressPrinter } from './run.js';
import type { Kernel } from '../kernel.js';
import type { Agent, RunnerEvent } from '../runner/agent.js';
import type { ApprovalAnswer } from '../approvals.js';
import type { SlashCommandInfo } from '../../sdk/types.js';

export const BUILTIN_COMMANDS: SlashCommandInfo[] = [
  { name: 'help', description: 'list commands' },
  { name: 'tools', description: 'list the tools the model is shown' },
  { name: 'model', description: 'show the model, or switch: /model <provider>/<model>' },
  { name: 'new', description: 'start a new session' },
  { name: 'session', description: 'show the session id and token use' },
  { name: 'exit', description: 'leave (Ctrl-D works too)' },
];

/** Lines from stdin, handed to whoever waits: an approval question first, then the REPL. */
class Lines {
  private queue: string[] = [];
  private waiters: ((line: string | null) => void)[] = [];
  private approvalWaiter: ((line: string | null) => void) | undefined;
  private closed = false;

  push(line: string): void {
    if (this.approvalWaiter) {
      const w = this.approvalWaiter;
      this.approvalWaiter = undefined;
      w(line);
    } else if (this.waiters.length) this.waiters.shift()!(line);
    else this.queue.push(line);
  }

  close(): void {
    this.closed = true;
    this.approvalWaiter?.(null);
    for (const w of this.waiters) w(null);
    this.waiters = [];
  }

  next(): Promise<string | null> {
    if (this.queue.length) return Promise.resolve(this.queue.shift()!);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  nextAnswer(): Promise<string | null> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.approvalWaiter = resolve;
    });
  }
}

export interface ChatOptions {
  model?: string;
  resume?: string;
  maxIterations?: string;
}

export async function chat(opts: ChatOptions): Promise<number> {
  const { Agent: AgentClass } = await import('../runner/agent.js');
  const { parseIterations } = await import('./run.js');
  const maxIterations = parseIterations(opts.maxIterations);
  return withKernel(async (k) => {
    const interactive = process.stdin.isTTY === true;
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: interactive, prompt: c.bold('› ') });
    const lines = new Lines();
    rl.on('line', (l) => lines.push(l));
    rl.on('close', () => lines.close());
    let controller: AbortController | undefined;
    let lastInterrupt = 0;
    const interrupt = () => {
      if (controller && !controller.signal.aborted) {
        controller.abort();
        process.stderr.write(`\n${c.yellow('cancelled')} (the session goes on; /exit or Ctrl-D to leave)\n`);
        return;
      }
      if (Date.now() - lastInterrupt < 2000) {
        rl.close();
        return;
      }
      lastInterrupt = Date.now();
      process.stderr.write(`\n${c.dim('(Ctrl-C again or Ctrl-D to leave)')}\n`);
      if (interactive) rl.prompt();
    };
    rl.on('SIGINT', interrupt);
    process.on('SIGINT', interrupt);
    if (interactive) tapInlineApprovals(k, lines);
    const make = (resume?: string): Agent => new AgentClass(k, { ...(opts.model ? { model: opts.model } : {}), ...(resume ? { resume } : {}), ...(maxIterations ? { config: { maxIterations } } : {}) });
    let agent = make(opts.resume);
    const banner = () => {
      process.stderr.write(c.dim(`caduceus chat · ${agent.model} · session ${agent.sessionId}${agent.resumed ? ' (resumed)' : ''} · /help for commands\n`));
      for (const f of agent.contextFiles.filter((x) => x.withheld)) process.stderr.write(`${c.yellow('warning')}: context file ${f.path} was withheld: the injection scanner flagged it (${f.withheld}).\n`);
    };
    banner();
    const progress = progressPrinter();
    let streamed = false;
    const onEvent = (e: RunnerEvent) => {
      if (e.type === 'text') {
        process.stdout.write(e.delta);
        streamed = true;
      } else if (e.type === 'reasoning') process.stderr.write(c.dim(e.delta));
      else {
        if (streamed) {
          process.stdout.write('\n');
          streamed = false;
        }
        progress(e);
      }
    };
    const turn = async (message: string) => {
      controller = new AbortController();
      streamed = false;
      try {
        await agent.runTurn(message, { signal: controller.signal, onEvent });
        process.stdout.write('\n');
      } catch (err) {
        if (streamed) process.stdout.write('\n');
        const e = err as { code?: string; message: string };
        if (e.code !== 'CAD_ERR_PROVIDER_CANCELLED') process.stderr.write(`${c.red('error')} ${e.code ?? 'error'}: ${e.message}\n`);
      } finally {
        controller = undefined;
      }
    };
    try {
      for (;;) {
        if (interactive) rl.prompt();
        const line = await lines.next();
        if (line === null) break;
        const text = line.trim();
        if (!text) continue;
        if (!text.startsWith('/')) {
          await turn(text);
          continue;
        }
        const space = text.indexOf(' ');
        const name = (space < 0 ? text.slice(1) : text.slice(1, space)).toLowerCase();
        const args = space < 0 ? '' : text.slice(space + 1).trim();
        if (name === 'exit' || name === 'quit') break;
        if (name === 'help') {
          const all = await commands(k);
          for (const cmd of all) process.stdout.write(`  /${cmd.name.padEnd(16)} ${cmd.description}${cmd.plugin ? c.dim(` (${cmd.plugin})`) : ''}\n`);
        } else if (name === 'tools') {
          const tools = await k.resolveToolsForModel();
          if (!tools.length) process.stdout.write('  (no tools: the model is a chatbot here; `caduceus plugins list` shows what could be enabled)\n');
          for (const t of tools) process.stdout.write(`  ${t.name.padEnd(28)} ${c.dim(t.plugin)} ${t.description.slice(0, 80)}\n`);
        } else if (name === 'model') {
          if (!args) process.stdout.write(`  ${agent.model}\n`);
          else {
            try {
              agent.setModel(args);
              process.stdout.write(`  now using ${agent.model}\n`);
            } catch (err) {
              process.stderr.write(`${c.red('error')} ${(err as { code?: string }).code}: ${(err as Error).message}\n`);
            }
          }
        } else if (name === 'new') {
          await agent.end('new session');
          agent = make();
          banner();
        } else if (name === 'session') {
          const row = agent.sessions.get(agent.sessionId);
          process.stdout.write(`  ${row.id} · ${row.model} · ${row.turns} turn(s) · ${row.input_tokens} in / ${row.output_tokens} out tokens (cache read ${row.cache_read_tokens})\n`);
        } else {
          const known = (await commands(k)).find((cmd) => cmd.name === name && cmd.plugin);
          if (!known) {
            process.stderr.write(`${c.yellow('unknown command')} /${name}; /help lists them\n`);
            continue;
          }
          const answer = await k.hooks.runCommand.promise({ name, args, sessionId: agent.sessionId });
          if (answer?.print) process.stdout.write(`${answer.print}\n`);
          if (answer?.message) await turn(answer.message);
          if (!answer) process.stderr.write(`${c.yellow('no answer')} from /${name} (plugin '${known.plugin}')\n`);
        }
      }
    } finally {
      process.removeListener('SIGINT', interrupt);
      rl.close();
      await agent.end('exit');
    }
    return EXIT.OK;
  });
}

/** Built-in commands, then what plugins add (a plugin command that shadows a built-in is dropped). */
export async function commands(k: Kernel): Promise<SlashCommandInfo[]> {
  const builtin = new Set(BUILTIN_COMMANDS.map((b) => b.name));
  if (!k.hooks.resolveCommands.isUsed()) return BUILTIN_COMMANDS;
  const extra = (await k.hooks.resolveCommands.promise([])).filter((cmd) => {
    if (!builtin.has(cmd.name)) return true;
    process.stderr.write(`${c.yellow('warning')}: /${cmd.name} from plugin '${cmd.plugin}' collides with a built-in command and is skipped\n`);
    return false;
  });
  return [...BUILTIN_COMMANDS, ...extra];
}

function tapInlineApprovals(k: Kernel, lines: Lines): void {
  k.hooks.approval.tapPromise('cli:chat-inline', async (req): Promise<ApprovalAnswer> => {
    const who = req.plugin ? `plugin '${req.plugin}'` : req.caller;
    process.stderr.write(`\n${c.yellow('approval needed')} (${who}${req.rule ? `, rule ${req.rule}` : ''}): ${req.question}\n  [o]nce / [s]ession / [a]lways / [N]o: `);
    const answer = ((await lines.nextAnswer()) ?? '').trim().toLowerCase();
    if (answer === 'o' || answer === 'once' || answer === 'y' || answer === 'yes') return 'once';
    if (answer === 's' || answer === 'session') return 'session';
    if (answer === 'a' || answer === 'always') return 'always';
    return 'deny';
  });
}
