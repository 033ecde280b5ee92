/**
 * Interpreters and the code they are handed. `bash -c '…'`, `python3 -c`, `node -e`, `perl -e` and
 * friends run a string as code; the classifier flags that and also reads the string, as shell code for
 * shells and, for other languages, by pulling out the string literals a program passes to `system`,
 * `exec`, `subprocess` and the like. An interpreter given no script reads its program from stdin, which
 * is what makes `curl … | sh` and `base64 -d | bash` dangerous. Option grammars here are the common
 * ones, enough to tell code from a script file; they are not complete.
 */
import type { Word } from './command-parse.js';
import type { CommandView } from './command-shape.js';

export type Lang = 'shell' | 'other';
export interface Invocation {
  /** code: runs a string given inline; stdin: runs what arrives on stdin; script/module: runs a file. */
  kind: 'code' | 'stdin' | 'script' | 'module';
  lang: Lang;
  code: string;
  /** The word that carries the code, to look at its substitutions (`sh -c "$(curl …)"`). */
  codeWord?: Word;
  /** The script file, for kind 'script'. */
  script?: string;
}

interface Spec {
  lang: Lang;
  /** Options whose next argument (or `--opt=value`) is code. */
  code: string[];
  /** Letters that mean "code" inside a short-option cluster (`-lc`, `-ne`). */
  cluster?: string;
  /** Whether the rest of a cluster after the code letter is the code itself (`-eprint 1`). */
  attached?: boolean;
  /** Letters after which the rest of a cluster is that option's value (perl `-MData::Dumper`). */
  stops?: string;
  /** Options that take the next argument as a value. */
  values: string[];
  module?: string;
  /** Cluster letter that means "read the program from stdin" (`bash -s`). */
  stdin?: string;
  lower?: boolean;
}

const SHELL: Spec = { lang: 'shell', code: [], cluster: 'c', values: ['-o', '+o', '-O', '+O', '--rcfile', '--init-file'], stdin: 's' };
const PYTHON: Spec = { lang: 'other', code: ['-c'], cluster: 'c', attached: true, stops: 'WX', values: ['-W', '-X', '--check-hash-based-pycs'], module: 'm' };
const NODE: Spec = { lang: 'other', code: ['-e', '--eval', '-p', '--print', '-pe', '-ep'], values: ['-r', '--require', '--import', '--loader', '--experimental-loader', '-C', '--conditions', '--input-type', '--title'] };

export const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish', 'csh', 'tcsh', 'yash', 'posh', 'rbash']);

const SPECS = new Map<string, Spec>([
  ...[...SHELLS].map((s) => [s, SHELL] as const),
  ['node', NODE], ['nodejs', NODE],
  ['bun', { lang: 'other', code: ['-e', '--eval', '-p', '--print'], values: [] }],
  ['perl', { lang: 'other', code: ['-e', '-E'], cluster: 'eE', attached: true, stops: 'MmIixl0FdDC', values: [] }],
  ['ruby', { lang: 'other', code: ['-e'], cluster: 'e', attached: true, stops: 'IrCEFx0', values: ['-I', '-r', '-C', '-E'] }],
  ['php', { lang: 'other', code: ['-r'], values: ['-c', '-d', '-z', '-t'] }],
  ['lua', { lang: 'other', code: ['-e'], values: ['-l'] }],
  ['luajit', { lang: 'other', code: ['-e'], values: ['-l'] }],
  ['osascript', { lang: 'other', code: ['-e'], values: ['-l'] }],
  ['Rscript', { lang: 'other', code: ['-e'], values: [] }],
  ['pwsh', { lang: 'other', code: ['-c', '-command'], values: ['-executionpolicy', '-file'], lower: true }],
  ['powershell', { lang: 'other', code: ['-c', '-command'], values: ['-executionpolicy', '-file'], lower: true }],
]);

// Hoisted: a regex literal is a new object each time it is evaluated, and this runs once per command.
const PYTHON_NAME = /^(python|pypy)[0-9.]*$/;

function specFor(name: string): Spec | undefined {
  return name.startsWith('p') && PYTHON_NAME.test(name) ? PYTHON : SPECS.get(name);
}

export function isInterpreter(name: string): boolean {
  return specFor(name) !== undefined || name === 'deno';
}

/** How an interpreter is invoked: with inline code, on stdin, or on a script; null when not one. */
export function interpret(v: CommandView): Invocation | null {
  if (v.invocation === undefined) v.invocation = invocation(v);
  return v.invocation;
}

function invocation(v: CommandView): Invocation | null {
  const args = v.args;
  if (v.name === 'deno') {
    return args[0]?.text === 'eval' ? code('other', args[1]) : { kind: 'script', lang: 'other', code: '' };
  }
  const spec = specFor(v.name);
  if (!spec) return null;
  const lang = spec.lang;
  let codeMode = false;
  let stdin = false;
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    const t = spec.lower ? w.text.toLowerCase() : w.text;
    if (t === '--') {
      const next = args[i + 1];
      if (codeMode) return code(lang, next);
      return next && !stdin ? { kind: 'script', lang, code: '', script: next.text } : { kind: 'stdin', lang, code: '' };
    }
    if (t === '-') return { kind: 'stdin', lang, code: '' };
    const eq = t.startsWith('--') ? t.indexOf('=') : -1;
    if (eq > 0 && spec.code.includes(t.slice(0, eq))) return { kind: 'code', lang, code: w.text.slice(eq + 1), codeWord: w };
    if (spec.code.includes(t)) return code(lang, args[i + 1]);
    if (spec.values.includes(t)) { i++; continue; }
    if (t.length > 1 && (t[0] === '-' || (lang === 'shell' && t[0] === '+'))) {
      if (t.startsWith('--')) continue;
      for (let k = 1; k < t.length; k++) {
        const ch = t[k]!;
        if (spec.module === ch) return { kind: 'module', lang, code: '' };
        if (spec.cluster?.includes(ch)) {
          if (lang === 'shell') { codeMode = true; break; }
          const rest = t.slice(k + 1);
          return spec.attached && rest ? { kind: 'code', lang, code: w.text.slice(k + 1), codeWord: w } : code(lang, args[i + 1]);
        }
        if (spec.stdin === ch) stdin = true;
        if (spec.stops?.includes(ch)) break;
      }
      continue;
    }
    if (codeMode) return code(lang, w);
    if (stdin || t === '/dev/stdin' || t === '/proc/self/fd/0') return { kind: 'stdin', lang, code: '' };
    return { kind: 'script', lang, code: '', script: w.text };
  }
  return codeMode ? { kind: 'code', lang, code: '' } : { kind: 'stdin', lang, code: '' };
}

function code(lang: Lang, w: Word | undefined): Invocation {
  return w ? { kind: 'code', lang, code: w.text, codeWord: w } : { kind: 'code', lang, code: '' };
}

// Programs in other languages only reach the shell through calls like these.
const RUNS_COMMANDS = /system|exec|popen|spawn|subprocess|child_process|shell_exec|passthru|proc_open|`|%x/;
const MAX_STRINGS = 200;
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };

/**
 * The string literals of a non-shell program that may be shell commands. Adjacent comma-separated
 * literals are joined (`["rm", "-rf", "/"]` → `rm -rf /`). Empty unless the program runs commands.
 */
export function shellStrings(program: string): string[] {
  if (!RUNS_COMMANDS.test(program)) return [];
  const out: string[] = [];
  let group: string[] = [];
  let lastEnd = -1;
  for (let i = 0; i < program.length && out.length < MAX_STRINGS; i++) {
    const q = program[i]!;
    if (q !== '"' && q !== "'" && q !== '`') continue;
    let j = i + 1;
    let s = '';
    while (j < program.length && program[j] !== q) {
      if (program[j] === '\\' && j + 1 < program.length) {
        const n = program[j + 1]!;
        s += ESCAPES[n] ?? n;
        j += 2;
        continue;
      }
      s += program[j];
      j++;
    }
    if (group.length && /^\s*,\s*$/.test(program.slice(lastEnd, i))) group.push(s);
    else {
      if (group.length) out.push(group.join(' '));
      group = [s];
    }
    lastEnd = j + 1;
    i = j;
  }
  if (group.length) out.push(group.join(' '));
  return out;
}

/** awk programs run shell commands through `system()`, `| getline` and `print | "cmd"`. */
export function awkRunsCommands(program: string): boolean {
  return program.includes('system') || program.includes('getline') || program.includes('| "') || program.includes('|"');
}
