/**
 * The command-safety classifier: is this shell command safe to run, dangerous (ask a person first) or
 * hardline (never run, in any mode)? It normalises the text first, so quoting tricks, `${IFS}`, `$'\x..'`,
 * `/usr/bin/` prefixes, env assignments and wrappers like `sudo`/`env`/`timeout` cannot hide a command,
 * then checks every command that would actually run, including code inside `$(…)`, backticks,
 * `bash -c '…'`, `find -exec` and text piped into a shell. Arguments are data: `echo reboot` and
 * `git commit -m "rm -rf /"` are safe. Pure, synchronous, linear in the input and never throws.
 *
 * The pieces: command-ast, command-lex and command-parse (the shell parser), command-shape (wrappers,
 * normalised text), command-walk (pipelines, redirects and nested code), command-checks, -writes, -sql
 * and -interp (what each command may break), command-rules (the rule table and path vocabulary).
 */
import { parseShell } from './command-parse.js';
import { renderScript } from './command-shape.js';
import { Walker } from './command-walk.js';
import { COMMAND_RULES, ruleById, type CommandRule } from './command-rules.js';

export type CommandVerdict = 'safe' | 'dangerous' | 'hardline';
export type { CommandRule };
export { COMMAND_RULES };

export interface CommandCheck {
  verdict: CommandVerdict;
  /** Id of the rule that decided: the first match of the most severe verdict. Absent when safe. */
  rule?: string;
  /** One plain sentence for operators, e.g. "deletes the root directory". */
  reason: string;
  /** The normalised command text; config allow/deny globs match against it. */
  normalized: string;
  /** Every rule hit, in the order the commands would run. */
  matches: { rule: string; verdict: 'dangerous' | 'hardline'; segment: string }[];
  /**
   * Normalised text of every simple command that would run, nested ones included (`bash -c 'a; b'` gives
   * the bash command, `a` and `b`). Lets a caller require an allow glob to cover each command rather than
   * the whole line, where `*` would also match `; rm -rf ~`.
   */
  segments: string[];
}

const SEVERITY: Record<CommandVerdict, number> = { safe: 0, dangerous: 1, hardline: 2 };

/** The normalised form of a command: what `checkCommand(...).normalized` returns. */
export function normalizeCommand(command: string): string {
  try {
    return renderScript(parseShell(String(command)));
  } catch {
    return collapse(String(command));
  }
}

/** Classifies one shell command line. Never throws: an internal failure reads as dangerous, not safe. */
export function checkCommand(command: string): CommandCheck {
  const text = String(command);
  try {
    const script = parseShell(text);
    const normalized = renderScript(script);
    const walker = new Walker(text.length);
    walker.script(script, 0);
    let decider: (typeof walker.matches)[number] | undefined;
    for (const m of walker.matches) if (!decider || SEVERITY[m.verdict] > SEVERITY[decider.verdict]) decider = m;
    const matches = walker.matches.map(({ rule, verdict, segment }) => ({ rule, verdict, segment }));
    if (!decider) return { verdict: 'safe', reason: 'matches no dangerous pattern', normalized, matches, segments: walker.segments };
    return { verdict: decider.verdict, rule: decider.rule, reason: decider.reason, normalized, matches, segments: walker.segments };
  } catch {
    const rule = ruleById('dangerous.too-complex');
    const normalized = collapse(text);
    return {
      verdict: 'dangerous', rule: rule.id, reason: 'could not be analysed, so a person should read it', normalized,
      matches: [{ rule: rule.id, verdict: 'dangerous', segment: normalized }], segments: [normalized],
    };
  }
}

function collapse(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * Glob match on normalised commands: `*` matches any run of characters (including none, and including
 * spaces and `;`), `?` exactly one; the whole string must match; case-sensitive. Linear-time greedy
 * matching with one backtrack point, so hostile globs cannot blow up.
 *
 * @example commandGlobMatch('git push *', 'git push origin main') // true
 */
export function commandGlobMatch(glob: string, normalized: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < normalized.length) {
    if (g < glob.length && glob[g] === '*') { star = g++; mark = t; }
    else if (g < glob.length && (glob[g] === '?' || glob[g] === normalized[t])) { g++; t++; }
    else if (star >= 0) { g = star + 1; t = ++mark; }
    else return false;
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}
