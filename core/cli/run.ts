/**
 * `caduceus run "<prompt>"`: one turn of the agent loop, streamed to stdout (tool progress on stderr),
 * or one JSON object with `--json`. Exits 0 when the model answered, 1 when the turn failed.
 */
import { CaduceusError } from '../errors.js';
import { withKernel } from './open.js';
import { c, EXIT, printJson } from './output.js';
import type { Agent, RunnerEvent } from '../runner/agent.js';

export interface RunOptions {
  model?: string;
  json?: boolean;
  maxIterations?: string;
  resume?: string;
}

/** One line per tool call on stderr: name, status, duration; and retries, so a slow turn says why. */
export function progressPrinter(out: NodeJS.WritableStream = process.stderr): (e: RunnerEvent) => void {
  return (e) => {
    if (e.type === 'tool_end') {
      const status = e.ok ? c.green('ok') : c.red(e.error?.code ?? 'failed');
      out.write(`${c.dim('  ⚙')} ${e.name} ${status} ${c.dim(`${e.durationMs.toFixed(1)} ms`)}\n`);
    } else if (e.type === 'retry') {
      out.write(`${c.yellow('  retry')} ${e.error.code} (attempt ${e.attempt}); waiting ${(e.delayMs / 1000).toFixed(1)} s\n`);
    } else if (e.type === 'notice') out.write(`${c.dim(e.message)}\n`);
  };
}

export function parseIterations(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    throw new CaduceusError('CAD_ERR_CLI_USAGE', `--max-iterations must be a whole number from 1 to 1000, not ${JSON.stringify(raw)}.`);
  }
  return n;
}

export async function run(prompt: string, opts: RunOptions): Promise<number> {
  if (!prompt || !prompt.trim()) throw new CaduceusError('CAD_ERR_CLI_USAGE', 'caduceus run needs a prompt: caduceus run "what is in README.md?"');
  const maxIterations = parseIterations(opts.maxIterations);
  const { Agent } = await import('../runner/agent.js');
  const { tapTerminalApprovals } = await import('./approval-prompt.js');
  return withKernel(async (k) => {
    tapTerminalApprovals(k);
    const agent: Agent = new Agent(k, { ...(opts.model ? { model: opts.model } : {}), ...(opts.resume ? { resume: opts.resume } : {}), ...(maxIterations ? { config: { maxIterations } } : {}) });
    const warnings = agent.contextFiles.filter((f) => f.withheld).map((f) => `warning: context file ${f.path} was withheld from the prompt: the injection scanner flagged it (${f.withheld}).`);
    for (const w of warnings) process.stderr.write(`${c.yellow(w)}\n`);
    const progress = progressPrinter();
    let streamed = false;
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    try {
      const result = await agent.runTurn(prompt, {
        signal: controller.signal,
        onEvent: (e) => {
          if (opts.json) return;
          if (e.type === 'text') {
            process.stdout.write(e.delta);
            streamed = true;
          } else progress(e);
        },
      });
      await agent.end('completed');
      if (opts.json) printJson({ ok: true, session: agent.sessionId, model: agent.model, text: result.text, iterations: result.iterations, toolCalls: result.toolCalls, usage: result.usage });
      else {
        if (streamed && !result.text.endsWith('\n')) process.stdout.write('\n');
        process.stderr.write(c.dim(`session ${agent.sessionId} · ${agent.model} · ${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens\n`));
      }
      return EXIT.OK;
    } catch (err) {
      await agent.end('error');
      if (streamed) process.stdout.write('\n');
      const coded = err as { code?: string; message: string };
      if (opts.json) printJson({ ok: false, session: agent.sessionId, model: agent.model, error: { code: coded.code, message: coded.message } });
      process.stderr.write(`${c.red('error')} ${coded.code ?? 'error'}: ${coded.message}\n`);
      return EXIT.FAILURE;
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  });
}
