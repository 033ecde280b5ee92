/**
 * What runs, and how a parsed command is written back as normalised text. A simple command's words
 * may start with env assignments, keywords (`then`, `do`, `!`) and wrappers (`sudo`, `env`, `timeout 5`,
 * `xargs -0`, `busybox`, …); `commandViews` peels them off one by one so every command that actually
 * executes, the wrapper and what it wraps, is seen with its basename (`/usr/bin/sudo` reads `sudo`).
 * `renderScript` produces the `normalized` string that allow/deny globs match: quotes resolved, env
 * prefixes dropped, command words basenamed, whitespace collapsed, operators spaced one way.
 */
import type { Redirect, Script, SimpleCommand, Word } from './command-parse.js';
import type { Invocation } from './command-interp.js';

export class CommandView {
  /** Cache for command-interp's `interpret`. */
  invocation: Invocation | null | undefined = undefined;
  private argWords: Word[] | undefined = undefined;

  constructor(
    /** Basename of the command word (`/bin/rm` → `rm`). */
    readonly name: string,
    /** Index of the command word in `cmd.words`. */
    readonly index: number,
    /** Wrappers this command runs under, outermost first (`sudo`, `xargs`, …). */
    readonly via: string[],
    readonly cmd: SimpleCommand,
  ) {}

  /** The words after the command word; copied on first use, since most commands are never asked. */
  get args(): Word[] {
    return (this.argWords ??= this.cmd.words.slice(this.index + 1));
  }
}

const NO_VIA: string[] = Object.freeze([]) as unknown as string[];
const MAX_VIEWS = 32;
// Words that can precede a command in command position without being one.
const LEADING_KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!']);

/**
 * How each wrapper's own options are skipped: returns the index of the wrapped command word, or -1 when
 * the options say nothing is run (`command -v rm`, `sudo -l`, `env -S …` which the rules read as code).
 */
const WRAPPERS = new Map<string, (w: Word[], j: number) => number>(Object.entries({
  sudo: (w, j) => skipOptions(w, j, 'ugCDprtTUR', ['--user', '--group', '--close-from', '--chdir', '--prompt', '--role', '--type', '--command-timeout', '--other-user', '--chroot', '--host'], 'elhV', ['--list', '--edit', '--help', '--version']),
  doas: (w, j) => skipOptions(w, j, 'uC', [], ''),
  pkexec: (w, j) => skipOptions(w, j, '', ['--user'], ''),
  env: (w, j) => skipOptions(w, j, 'uC', ['--unset', '--chdir'], 'S', ['--split-string']),
  nice: (w, j) => skipOptions(w, j, 'n', ['--adjustment'], ''),
  nohup: (_w, j) => j,
  setsid: (w, j) => skipOptions(w, j, '', [], ''),
  timeout: (w, j) => after(skipOptions(w, j, 'sk', ['--signal', '--kill-after'], ''), 1),
  command: (w, j) => skipOptions(w, j, '', [], 'vV'),
  builtin: (_w, j) => j,
  exec: (w, j) => skipOptions(w, j, 'a', [], ''),
  xargs: (w, j) => skipOptions(w, j, 'InPLsdEa', ['--max-args', '--max-procs', '--max-lines', '--delimiter', '--eof', '--arg-file', '--max-chars', '--process-slot-var'], ''),
  busybox: (w, j) => (w[j]?.text.startsWith('-') ? -1 : j),
  time: (w, j) => skipOptions(w, j, 'fo', ['--format', '--output'], ''),
  stdbuf: (w, j) => skipOptions(w, j, 'ioe', ['--input', '--output', '--error'], ''),
  ionice: (w, j) => skipOptions(w, j, 'cn', ['--class', '--classdata'], 'pPu'),
  chroot: (w, j) => after(skipOptions(w, j, '', ['--userspec', '--groups'], ''), 1),
  npx: (w, j) => skipOptions(w, j, 'p', ['--package'], 'c', ['--call']),
  pnpx: (w, j) => skipOptions(w, j, 'p', ['--package'], 'c', ['--call']),
  bunx: (w, j) => skipOptions(w, j, 'p', ['--package'], ''),
  nocorrect: (_w, j) => j,
  noglob: (_w, j) => j,
} satisfies Record<string, (w: Word[], j: number) => number>));

const after = (j: number, skip: number) => (j < 0 ? j : j + skip);

/** Skips a wrapper's options; short options in `values` take an argument. -1 when a `stop` option is seen. */
function skipOptions(w: Word[], j: number, values: string, longValues: string[], stop: string, stopLong: string[] = []): number {
  while (j < w.length) {
    const t = w[j]!.text;
    if (t === '--') return j + 1;
    if (t.startsWith('--')) {
      const name = t.split('=')[0]!;
      if (stopLong.includes(name)) return -1;
      j += !t.includes('=') && longValues.includes(t) ? 2 : 1;
      continue;
    }
    if (t.length < 2 || t[0] !== '-') return j;
    let step = 1;
    for (let k = 1; k < t.length; k++) {
      const ch = t[k]!;
      if (stop.includes(ch)) return -1;
      if (values.includes(ch)) { if (k === t.length - 1) step = 2; break; }
    }
    j += step;
  }
  return j;
}

/** `/usr/bin/sudo` → `sudo`, `./bin/rm` → `rm`; `@scope/pkg` (an npx package, not a path) is kept. */
export function basename(text: string): string {
  if (!text.includes('/') || text.endsWith('/') || text.startsWith('@')) return text;
  return text.slice(text.lastIndexOf('/') + 1);
}

export function isWrapper(name: string): boolean {
  return WRAPPERS.has(name);
}

/** Index of the next command word at or after `i`, past env assignments and keywords; -1 if none. */
function commandIndex(words: Word[], i: number): number {
  while (i < words.length && (words[i]!.assignment || (!words[i]!.quoted && LEADING_KEYWORDS.has(words[i]!.text)))) i++;
  return i < words.length ? i : -1;
}

// A command word's name: the basename of a path, but a word built from `$…` is kept whole.
const nameOf = (w: Word) => (w.subs.length || w.text.includes('$') ? w.text : basename(w.text));

/**
 * The name of the first command a simple command runs ('' for none), without building views: enough
 * for the many commands no rule cares about. If it is a wrapper, `commandViews` sees what it runs.
 */
export function commandName(cmd: SimpleCommand): string {
  const i = commandIndex(cmd.words, 0);
  return i < 0 ? '' : nameOf(cmd.words[i]!);
}

/** Every command a simple command runs: the first command word, then what each wrapper wraps. */
export function commandViews(cmd: SimpleCommand): CommandView[] {
  if (cmd.views) return cmd.views;
  const views: CommandView[] = [];
  const words = cmd.words;
  const via: string[] = [];
  let i = 0;
  while (i < words.length) {
    i = commandIndex(words, i);
    if (i < 0) break;
    const w = words[i]!;
    const name = nameOf(w);
    const wrap = WRAPPERS.get(name);
    const next = wrap ? wrap(words, i + 1) : -1;
    const wraps = next >= 0 && next < words.length;
    // `nohup nohup … rm`: past MAX_VIEWS wrappers are stepped over without a view of their own (each
    // view copies its arguments), but what they finally run always gets one.
    if (!wraps || views.length < MAX_VIEWS) {
      views.push(new CommandView(name, i, via.length ? [...via] : NO_VIA, cmd));
    }
    if (!wraps) break;
    via.push(name);
    i = next;
  }
  cmd.views = views;
  return views;
}

const NEEDS_QUOTES = /[\s;&|<>()'"`\\]/;

export function renderWord(w: Word): string {
  const t = w.text;
  if (w.procSub) return t;
  if (t === '') return "''";
  if (!NEEDS_QUOTES.test(t)) return t;
  if (w.subs.length) return w.subs.length === 1 && t.startsWith('$(') && t.endsWith(')') ? t : `"${t}"`;
  return `'${t.replace(/'/g, `'\\''`)}'`;
}

function renderRedirect(r: Redirect): string {
  if (r.heredoc) return `${r.fd}${r.op} ${r.target.text}`;
  if ((r.op === '>&' || r.op === '<&') && /^(\d+|-)$/.test(r.target.text)) return `${r.fd}${r.op}${r.target.text}`;
  return `${r.fd}${r.op} ${renderWord(r.target)}`;
}

/** One simple command as normalised text: env prefixes dropped, command words basenamed. */
export function renderCommand(cmd: SimpleCommand): string {
  if (cmd.rendered !== undefined) return cmd.rendered;
  const head = commandIndex(cmd.words, 0);
  // Only a wrapper has more command words than the first; the rest need no views.
  const views = head >= 0 && WRAPPERS.has(nameOf(cmd.words[head]!)) ? commandViews(cmd)
    : head >= 0 ? [{ index: head, name: nameOf(cmd.words[head]!) }] : [];
  const first = views[0]?.index ?? cmd.words.length;
  let out = '';
  let v = 0;
  for (let i = 0; i < cmd.words.length; i++) {
    const w = cmd.words[i]!;
    if (i < first && w.assignment && views.length) continue;
    while (v < views.length && views[v]!.index < i) v++;
    const name = views[v]?.index === i ? views[v]!.name : undefined;
    const text = name === undefined || name === w.text ? renderWord(w) : renderWord({ ...w, text: name });
    out = out === '' ? text : `${out} ${text}`;
  }
  for (const r of cmd.redirects) out = out === '' ? renderRedirect(r) : `${out} ${renderRedirect(r)}`;
  cmd.rendered = out;
  return out;
}

const NO_SPACE_BEFORE = new Set([';', '&']);
const NO_SEMICOLON_AFTER = new Set([';', '&', '&&', '||', '|', '{', '(']);

export function renderScript(script: Script): string {
  const parts: string[] = [];
  let prev = '';
  const items = script.items;
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const tok = typeof it === 'string' ? it : renderCommand(it);
    if (tok === '') continue;
    if (tok === ';' && (prev === '' || NO_SEMICOLON_AFTER.has(prev))) continue;
    if (parts.length && NO_SPACE_BEFORE.has(tok)) parts[parts.length - 1] += tok;
    else parts.push(tok);
    prev = tok;
  }
  if (prev === ';') parts[parts.length - 1] = parts[parts.length - 1]!.slice(0, -1);
  return parts.join(' ');
}
