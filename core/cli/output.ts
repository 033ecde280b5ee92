/**
 * CLI output helpers: tables, colour that respects NO_COLOR and non-terminals, coded error printing and
 * the documented exit codes.
 */
import { isCoded } from '../errors.js';

export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2, INTERNAL: 70 } as const;

const colour = !process.env.NO_COLOR && process.stdout.isTTY === true && process.env.TERM !== 'dumb';
const wrap = (code: number) => (s: string) => (colour ? `\u001b[${code}m${s}\u001b[0m` : s);
export const c = { red: wrap(31), green: wrap(32), yellow: wrap(33), dim: wrap(2), bold: wrap(1) };

export function statusColour(status: string): string {
  if (status === 'available' || status === 'enabled' || status === 'ok') return c.green(status);
  if (status === 'degraded' || status === 'disabled') return c.yellow(status);
  return c.red(status);
}

export function table(rows: string[][], header: string[]): string {
  const all = [header, ...rows];
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\u001b\[\d+m/g, '').length;
  const widths = header.map((_, i) => Math.max(...all.map((r) => visible(r[i] ?? ''))));
  return all.map((r, ri) => r.map((cell, i) => {
    const text = ri === 0 ? c.bold(cell) : cell;
    return i === r.length - 1 ? text : text + ' '.repeat(widths[i]! - visible(cell) + 2);
  }).join('')).join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Prints a failure; coded errors show their code and (for --json) go to stdout as an object. A
 * CAD_ERR_CLI_USAGE exits 2 like the usage errors the argument parser catches; other coded errors exit 1.
 */
export function printError(err: unknown, json: boolean): number {
  if (isCoded(err)) {
    if (json) printJson({ ok: false, error: { code: err.code, message: err.message, plugin: err.plugin, tool: err.tool } });
    process.stderr.write(`${c.red('error')} ${err.code}: ${err.message}\n`);
    return err.code === 'CAD_ERR_CLI_USAGE' ? EXIT.USAGE : EXIT.FAILURE;
  }
  const e = err as Error;
  process.stderr.write(`${c.red('internal error')}: ${e?.stack ?? String(err)}\nThis is a bug in Caduceus; please report it.\n`);
  return EXIT.INTERNAL;
}

export function progress(message: string): void {
  process.stderr.write(`${c.dim('…')} ${message}\n`);
}

/** Asks a yes/no question on the terminal; undefined when nothing can ask. */
export function terminalAsk(): ((question: string) => Promise<boolean>) | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return async (question: string) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}
