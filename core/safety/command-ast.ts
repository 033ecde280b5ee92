/**
 * The syntax tree of the command-safety parser, and the small helpers that build it. A Script is the
 * items of one command line in order (simple commands and operator tokens), plus the same commands
 * grouped into pipelines. Words carry their text after quote removal and the scripts of the
 * substitutions inside them, so the classifier can look inside `$(…)` without parsing twice.
 */
import { commandViews, type CommandView } from './command-shape.js';

export interface Word {
  /** The word after quote removal and the expansions we can resolve. Substitutions read `$(…)`. */
  text: string;
  quoted: boolean;
  /** `NAME=value` with the name and `=` unquoted: an assignment, not a command, in command position. */
  assignment: boolean;
  /** Scripts of the `$(…)`, backtick and `<(…)` substitutions inside this word. */
  subs: Script[];
  procSub?: '<' | '>';
}
export interface Heredoc { body: string; subs: Script[] }
export interface Redirect { fd: string; op: string; target: Word; heredoc?: Heredoc }
export interface SimpleCommand {
  words: Word[];
  redirects: Redirect[];
  background: boolean;
  /** Names of the shell functions whose bodies enclose this command (innermost last). */
  functions: string[];
  /** True when this command is one stage of a pipeline of two or more. */
  piped: boolean;
  /** Caches for command-shape (plain fields: WeakMaps cost too much GC on 100 KB inputs). */
  views?: CommandView[];
  rendered?: string;
}
/** A simple command, or an operator / grouping token (`;`, `&&`, `|`, `(`, `{`, `f()`) as its text. */
export type Item = SimpleCommand | string;
export interface Script {
  items: Item[];
  commands: SimpleCommand[];
  pipelines: SimpleCommand[][];
  /** Set when nesting went past MAX_NEST or the work budget ran out: some text was not read. */
  opaque?: boolean;
}

/** A variable assigned earlier in the line: its text, and the substitutions that produced it. */
export interface VarValue { text: string; subs: Script[] }
export type Vars = Map<string, VarValue>;

/**
 * Work shared by one top-level parse and every parse nested in it (backticks, heredoc bodies, `${x:-…}`
 * defaults, variable expansions). Past the budget the parser stops expanding and marks the result
 * opaque, which the classifier reports: a crafted line cannot buy time or hide text by being expensive.
 */
export interface Budget { left: number; exceeded: boolean }

export const MAX_NEST = 24;
/** How many enclosing function names a command remembers (innermost first). */
export const MAX_FUNCTIONS = 16;
const GROUPING = new Set(['(', ')', '{', '}']);
// Shared, frozen empties: most commands have no redirects, functions or substitutions (fewer allocations
// matter on a 100 KB line of 25k commands). Nothing appends to these after creation.
export const NO_REDIRECTS: Redirect[] = Object.freeze([]) as unknown as Redirect[];
export const NO_SUBS: Script[] = Object.freeze([]) as unknown as Script[];
const NO_FUNCTIONS: string[] = Object.freeze([]) as unknown as string[];
/** The value of a variable too long to track: expanding it marks the parse opaque. */
export const POISONED: VarValue = { text: '', subs: [] };

export const isNameStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
export const isNameChar = (c: string) => isNameStart(c) || (c >= '0' && c <= '9');
export const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r';

export function opaqueScript(): Script {
  return { items: ['…'], commands: [], pipelines: [], opaque: true };
}

/** Collects the words one token produces (an unquoted expansion can split it into several). */
export class Sink {
  words: Word[] = [];
  text = '';
  quoted = false;
  firstQuote = -1;
  subs: Script[] = NO_SUBS;
  procSub: '<' | '>' | undefined;

  add(t: string): void { this.text += t; }
  sub(s: Script): void {
    if (this.subs === NO_SUBS) this.subs = [];
    this.subs.push(s);
  }
  quote(): void {
    if (this.quoted) return;
    this.quoted = true;
    this.firstQuote = this.text.length;
  }
  flush(): void {
    if (this.text !== '' || this.quoted || this.subs.length) {
      const w = this.word();
      const expanded = w.text.length > 2 && w.text[0] === '{' ? expandBraces(w) : null;
      if (expanded) for (const x of expanded) this.words.push(x);
      else this.words.push(w);
    }
    this.text = '';
    this.quoted = false;
    this.firstQuote = -1;
    this.subs = NO_SUBS;
    this.procSub = undefined;
  }
  done(): Word[] {
    this.flush();
    return this.words;
  }
  private word(): Word {
    const w: Word = { text: this.text, quoted: this.quoted, assignment: isAssignment(this.text, this.firstQuote), subs: this.subs };
    if (this.procSub) w.procSub = this.procSub;
    return w;
  }
}

/** `NAME=` or `NAME+=` at the start, with no quoting before the `=` (`firstQuote` -1: none at all). */
export function isAssignment(text: string, firstQuote: number): boolean {
  if (!isNameStart(text.charAt(0))) return false;
  let i = 1;
  while (isNameChar(text.charAt(i))) i++;
  if (text.charAt(i) === '+') i++;
  return text.charAt(i) === '=' && (firstQuote < 0 || i + 1 <= firstQuote);
}

// `{rm,-rf,/}` is brace expansion: three words. Only the whole-word form, which is the obfuscation.
function expandBraces(w: Word): Word[] {
  const t = w.text;
  if (w.quoted || w.subs.length || t.length < 3 || t[0] !== '{' || t[t.length - 1] !== '}') return [w];
  const inner = t.slice(1, -1);
  if (!inner.includes(',')) return [w];
  for (const ch of inner) if (ch === '{' || ch === '}' || isBlank(ch) || ch === '\n') return [w];
  return inner.split(',').filter((p) => p !== '').map((p) => ({ text: p, quoted: false, assignment: false, subs: NO_SUBS }));
}

export function newCommand(functions: string[]): SimpleCommand {
  const fns = functions.length === 0 ? NO_FUNCTIONS : functions;
  // Every field set up front, caches included, so all commands share one hidden class.
  return { words: [], redirects: NO_REDIRECTS, background: false, functions: fns, piped: false, views: undefined, rendered: undefined };
}

/** The Script for parsed items: commands in order, and grouped into pipelines. */
export function finish(items: Item[]): Script {
  const commands: SimpleCommand[] = [];
  const pipelines: SimpleCommand[][] = [];
  let join = false;
  // Index loops here and in the other hot paths: iterators allocate until the JIT has warmed up.
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (typeof it !== 'string') {
      const last = pipelines[pipelines.length - 1];
      if (join && last) last.push(it);
      else pipelines.push([it]);
      commands.push(it);
      join = false;
    } else if (it === '|') join = true;
    else if (!GROUPING.has(it)) join = false;
  }
  for (let i = 0; i < pipelines.length; i++) {
    const p = pipelines[i]!;
    if (p.length > 1) for (let k = 0; k < p.length; k++) p[k]!.piped = true;
  }
  return { items, commands, pipelines };
}

const ECHO_FLAGS = /^-[neE]+$/;

/** The output of `echo words` or `printf word` (no flags, formats or escapes), else null. */
export function literalOutput(s: Script): string | null {
  const cmd = s.commands[0];
  if (s.commands.length !== 1 || !cmd || cmd.redirects.length || cmd.words.some((w) => w.subs.length)) return null;
  const views = commandViews(cmd);
  const v = views[0];
  if (!v || views.length !== 1) return null;
  const args = v.args.map((w) => w.text);
  if (v.name === 'echo' && !ECHO_FLAGS.test(args[0] ?? '')) return args.join(' ');
  if (v.name === 'printf' && args.length === 1 && !/[%\\]/.test(args[0]!)) return args[0]!;
  return null;
}
