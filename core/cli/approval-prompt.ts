/**
 * The CLI's answer to the `approval` hook: a question on the terminal with the four answers (once,
 * this session, always, deny). Tapped only when stdin and stderr are terminals; otherwise nothing
 * answers, and an approval that is asked for is denied.
 */
import type { Kernel } from '../kernel.js';
import type { ApprovalAnswer } from '../approvals.js';
import { c } from './output.js';

const TAP = 'cli:terminal-prompt';

export function tapTerminalApprovals(k: Kernel): void {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return;
  k.hooks.approval.tapPromise(TAP, async (req): Promise<ApprovalAnswer> => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const who = req.plugin ? `plugin '${req.plugin}'` : req.caller;
      process.stderr.write(`${c.yellow('approval needed')} (${who}${req.rule ? `, rule ${req.rule}` : ''}): ${req.question}\n`);
      const answer = (await rl.question('  [o]nce / [s]ession / [a]lways / [N]o: ')).trim().toLowerCase();
      if (answer === 'o' || answer === 'once' || answer === 'y' || answer === 'yes') return 'once';
      if (answer === 's' || answer === 'session') return 'session';
      if (answer === 'a' || answer === 'always') return 'always';
      return 'deny';
    } finally {
      rl.close();
    }
  });
}
