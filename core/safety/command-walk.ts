/**
 * Walks a parsed command line and collects every rule hit. It visits commands in the order they run
 * (substitutions before the command that uses them), checks redirects, pipelines and fork bombs, and
 * follows code into nested levels: `$(…)`, `bash -c '…'`, `find -exec`, `ssh host '…'`, and text fed
 * to a shell on stdin (`echo … | sh`, here-strings, heredocs, even `echo <base64> | base64 -d | sh`).
 * Nested code is capped at MAX_CODE_DEPTH levels; deeper code is reported as too complex rather than
 * silently passed.
 */
import { Buffer } from 'node:buffer';
import { parseShell, type Script, type SimpleCommand } from './command-parse.js';
import { commandName, commandViews, isWrapper, renderCommand, type CommandView } from './command-shape.js';
import { checkRm, checkView, FETCHERS, isChecked, isDecoder, isFetcher, type CheckContext } from './command-checks.js';
import { checkWrite, downloadTargets } from './command-writes.js';
import { interpret, isInterpreter, shellStrings } from './command-interp.js';
import { destructiveSql, isSqlClient } from './command-sql.js';
import { homeRelative, parseArgs, ruleById, type RuleId, type RuleVerdict } from './command-rules.js';

export interface Match { rule: string; verdict: RuleVerdict; segment: string; reason: string }
interface Feeds { fetched(j: number): boolean; decoded(j: number): boolean }

const MAX_CODE_DEPTH = 6;
const MAX_SEARCH_DEPTH = 64;
const MAX_STDIN = 65536;
const WRITE_OPS = new Set(['>', '>>', '>|', '&>', '&>>', '<>']);
const STDIN_OPS = new Set(['<', '<<', '<<-', '<<<', '<>', '<&']);
const FD_DUP = /^(\d+|-)$/;
const LEADING_DOT_SLASH = /^(\.\/)+/;

export class Walker {
  readonly matches: Match[] = [];
  /** Normalised text of every simple command visited, nested ones included. */
  readonly segments: string[] = [];
  // segment → rules already reported for it. Keyed by the segment string itself so V8 hashes it once.
  private readonly seen = new Map<string, Set<string>>();
  /** Where `cd` took the line, when it went somewhere we can name (`cd / && rm -rf *`). */
  private cwd: string | null = null;
  /** Files a fetcher saved earlier in the line (`curl -o x.sh … && bash x.sh`). */
  private readonly downloads = new Set<string>();
  /** Characters of nested code still allowed to be parsed; past it the line is reported too complex. */
  private workLeft: number;

  constructor(inputLength: number) {
    this.workLeft = 4 * inputLength + 262_144;
  }

  hit(rule: RuleId, segment: string, reason?: string): void {
    let rules = this.seen.get(segment);
    if (!rules) this.seen.set(segment, (rules = new Set()));
    if (rules.has(rule)) return;
    rules.add(rule);
    const r = ruleById(rule);
    this.matches.push({ rule, verdict: r.verdict as RuleVerdict, segment, reason: reason ?? r.description });
  }

  script(s: Script, depth: number): void {
    if (s.opaque) this.hit('dangerous.too-complex', '…', 'nests substitutions too deeply to analyse');
    for (let i = 0; i < s.pipelines.length; i++) {
      const p = s.pipelines[i]!;
      for (let k = 0; k < p.length; k++) this.command(p[k]!, depth, k === 0);
      this.pipeline(p, depth);
    }
  }

  private code(text: string, depth: number, segment: string): void {
    if (text.trim() === '') return;
    this.workLeft -= text.length;
    if (depth + 1 > MAX_CODE_DEPTH || this.workLeft < 0) { this.hit('dangerous.too-complex', segment, 'nests code too deeply to analyse'); return; }
    this.script(parseShell(text), depth + 1);
  }

  private command(cmd: SimpleCommand, depth: number, first: boolean): void {
    const seg = renderCommand(cmd);
    this.segments.push(seg);
    const words = cmd.words;
    for (let i = 0; i < words.length; i++) {
      const subs = words[i]!.subs;
      for (let k = 0; k < subs.length; k++) this.script(subs[k]!, depth);
    }
    let stdinRedirected = false;
    for (const r of cmd.redirects) {
      for (const sub of r.target.subs) this.script(sub, depth);
      for (const sub of r.heredoc?.subs ?? []) this.script(sub, depth);
      if (STDIN_OPS.has(r.op)) stdinRedirected = true;
    }
    const head = commandName(cmd);
    // A function that runs itself in a pipeline or in the background, from its own body: a fork bomb.
    if (head && cmd.functions.includes(head) && (cmd.piped || cmd.background)) {
      this.hit('hardline.fork-bomb', seg, `function ${head} keeps spawning copies of itself`);
    }
    // Most commands on a long line need no check at all; skip even their views and context.
    const relevant = cmd.redirects.length > 0 || this.downloads.size > 0 || isWrapper(head) || isChecked(head) || FETCHERS.has(head);
    if (relevant) {
      const views = commandViews(cmd);
      const ctx = this.context(seg, depth, first && !stdinRedirected);
      for (const r of cmd.redirects) {
        if (WRITE_OPS.has(r.op) || (r.op === '>&' && !FD_DUP.test(r.target.text))) checkWrite(r.target.text, ctx);
      }
      for (let i = 0; i < views.length; i++) {
        checkView(views[i]!, ctx);
        this.downloaded(views[i]!, ctx);
      }
    }
    if (head === 'cd' || head === 'pushd') this.cd(commandViews(cmd)[0]!.args.find((w) => !w.text.startsWith('-'))?.text ?? '~');
  }

  private cd(target: string): void {
    if (target.startsWith('/') || (homeRelative(target) !== null && !target.startsWith('.'))) this.cwd = target;
    else this.cwd = this.cwd === null || target === '-' ? null : this.resolve(target);
  }

  private resolve(path: string): string {
    if (this.cwd === null || path.startsWith('/') || (homeRelative(path) !== null && !path.startsWith('.'))) return path;
    return this.cwd.endsWith('/') ? this.cwd + path : `${this.cwd}/${path}`;
  }

  // Downloading a file and running it later in the same line is `curl | sh` with extra steps.
  private downloaded(v: CommandView, ctx: CheckContext): void {
    const key = (p: string) => this.resolve(p.replace(LEADING_DOT_SLASH, ''));
    if (isFetcher(v)) {
      for (const t of downloadTargets(v)) this.downloads.add(key(t));
      for (const r of v.cmd.redirects) if (WRITE_OPS.has(r.op)) this.downloads.add(key(r.target.text));
      return;
    }
    if (this.downloads.size === 0) return;
    const word = v.cmd.words[v.index]?.text ?? '';
    const inv = interpret(v);
    const sourced = v.name === 'source' || v.name === '.' ? v.args[0]?.text : undefined;
    for (const file of [word.includes('/') ? word : undefined, inv?.script, sourced]) {
      if (file !== undefined && this.downloads.has(key(file))) ctx.hit('dangerous.pipe-to-shell', `runs ${file}, downloaded earlier in the same command`);
    }
  }

  private context(seg: string, depth: number, interactive: boolean): CheckContext {
    return new Context(this, seg, depth, interactive);
  }

  /** @internal for Context */
  codeAt(text: string, depth: number, segment: string): void { this.code(text, depth, segment); }
  /** @internal for Context */
  commandAt(cmd: SimpleCommand, depth: number): void { this.command(cmd, depth, false); }
  /** @internal for Context */
  scriptsRun(scripts: readonly Script[], test: (v: CommandView) => boolean): boolean { return this.runs(scripts, test, 0); }
  /** @internal for Context */
  resolvePath(path: string): string { return this.resolve(path); }

  private runs(scripts: readonly Script[], test: (v: CommandView) => boolean, level: number): boolean {
    if (level > MAX_SEARCH_DEPTH) return false;
    return scripts.some((s) => s.commands.some((c) => this.cmdRuns(c, test, level + 1)));
  }

  private cmdRuns(c: SimpleCommand, test: (v: CommandView) => boolean, level: number): boolean {
    return commandViews(c).some(test) || c.words.some((w) => this.runs(w.subs, test, level));
  }

  // What reaches each stage on stdin: network content, decoded content, or literal text we can read.
  private pipeline(p: SimpleCommand[], depth: number): void {
    let text: string | undefined;
    const segment = () => (text ??= p.map(renderCommand).join(' | '));
    // Whether a fetcher / decoder runs before stage j, computed once: `sh | sh | sh …` must stay linear.
    let fetchedBefore: boolean[] | undefined;
    let decodedBefore: boolean[] | undefined;
    const upstream = (test: (v: CommandView) => boolean): boolean[] => {
      const before: boolean[] = [false];
      for (let k = 0; k < p.length; k++) before.push(before[k]! || this.cmdRuns(p[k]!, test, 0));
      return before;
    };
    const feeds: Feeds = {
      fetched: (j) => (fetchedBefore ??= upstream(isFetcher))[j]!,
      decoded: (j) => (decodedBefore ??= upstream(isDecoder))[j]!,
    };
    for (let j = 0; j < p.length; j++) this.stage(p, j, depth, segment, feeds);
  }

  /** Stage j of pipeline p: does it run network content, decoded content or readable text from stdin? */
  private stage(p: SimpleCommand[], j: number, depth: number, segment: () => string, feeds: Feeds): void {
    const cmd = p[j]!;
    if (p.length === 1 && cmd.redirects.length === 0) return; // nothing arrives on stdin
    const head = commandName(cmd);
    if (!isWrapper(head) && !isInterpreter(head) && !isSqlClient(head)) return;
    const views = commandViews(cmd);
    const v = views[views.length - 1];
    if (!v) return;
    const inv = interpret(v);
    const runsStdin = inv?.kind === 'stdin' ? inv.lang : null;
    const sql = isSqlClient(v.name);
    const xargsRm = v.name === 'rm' && v.via.includes('xargs');
    if (!runsStdin && !sql && !xargsRm) return;
    if (runsStdin) {
      const redirected = cmd.redirects.filter((r) => r.op === '<').flatMap((r) => r.target.subs);
      if (feeds.fetched(j) || this.runs(redirected, isFetcher, 0)) this.hit('dangerous.pipe-to-shell', segment(), `pipes network content into ${v.name}`);
      if (feeds.decoded(j) || this.runs(redirected, isDecoder, 0)) this.hit('dangerous.decode-to-shell', segment(), `pipes decoded content into ${v.name}`);
    }
    const input = this.stdinText(p, j, 0);
    if (input === null || input.trim() === '') return;
    if (runsStdin === 'shell') this.code(input, depth, segment());
    else if (runsStdin === 'other') for (const s of shellStrings(input)) this.code(s, depth, segment());
    if (sql) {
      const reason = destructiveSql(input);
      if (reason) this.hit('dangerous.sql-destructive', segment(), reason);
    }
    if (xargsRm) checkRm([...v.args.map((w) => w.text), ...input.split(/\s+/).filter(Boolean)], this.context(segment(), depth, false));
  }

  private stdinText(p: SimpleCommand[], j: number, level: number): string | null {
    const cmd = p[j]!;
    for (const r of cmd.redirects) {
      if (r.op === '<<<') return r.target.text + '\n';
      if (r.heredoc) return r.heredoc.body;
    }
    return j === 0 || level > 8 ? null : this.output(p, j - 1, level + 1);
  }

  /** What stage i writes to stdout, when it is literal text (echo, printf, cat <<EOF, decoders of those). */
  private output(p: SimpleCommand[], i: number, level: number): string | null {
    const views = commandViews(p[i]!);
    const v = views[views.length - 1];
    if (!v) return null;
    const args = v.args.map((w) => w.text);
    if (v.name === 'echo') {
      let k = 0;
      let escapes = false;
      while (k < args.length && /^-[neE]+$/.test(args[k]!)) { if (args[k]!.includes('e')) escapes = true; k++; }
      const s = args.slice(k).join(' ');
      return escapes ? unescape(s) : s;
    }
    if (v.name === 'printf') {
      let k = 1;
      return unescape(args[0] ?? '').replace(/%[sb]/g, () => args[k++] ?? '');
    }
    if (v.name === 'cat') return parseArgs(args).pos.length === 0 ? this.stdinText(p, i, level) : null;
    if (!isDecoder(v)) return null;
    const input = this.stdinText(p, i, level);
    return input === null || input.length > MAX_STDIN ? null : decode(v, input);
  }
}

// One per command checked: a class, not a bag of closures, because a 100 KB line can hold 25k commands.
class Context implements CheckContext {
  constructor(private readonly w: Walker, private readonly seg: string, private readonly depth: number, readonly interactive: boolean) {}
  hit(rule: RuleId, reason?: string): void { this.w.hit(rule, this.seg, reason); }
  code(text: string): void { this.w.codeAt(text, this.depth, this.seg); }
  foreignCode(program: string): void { for (const s of shellStrings(program)) this.w.codeAt(s, this.depth, this.seg); }
  run(words: string[]): void { this.w.commandAt(synthetic(words), this.depth); }
  runs(scripts: readonly Script[], test: (v: CommandView) => boolean): boolean { return this.w.scriptsRun(scripts, test); }
  resolve(path: string): string { return this.w.resolvePath(path); }
}

function synthetic(words: string[]): SimpleCommand {
  return {
    words: words.map((text) => ({ text, quoted: false, assignment: false, subs: [] })),
    redirects: [], background: false, functions: [], piped: false,
  };
}

function decode(v: CommandView, input: string): string | null {
  const args = v.args.map((w) => w.text);
  const compact = input.replace(/\s+/g, '');
  const base64 = () => (/^[A-Za-z0-9+/=_-]*$/.test(compact) ? Buffer.from(compact, 'base64').toString('utf8') : null);
  switch (v.name) {
    case 'base64': case 'gbase64': return base64();
    case 'basenc': return args.includes('--base64') ? base64() : null;
    case 'xxd': return /^[0-9a-fA-F]*$/.test(compact) ? Buffer.from(compact, 'hex').toString('utf8') : null;
    case 'openssl': return args.includes('-a') || args.includes('-base64') || args[0] === 'base64' ? base64() : null;
    case 'rev': return input.split('\n').map((l) => [...l].reverse().join('')).join('\n');
    default: return null;
  }
}

const ECHO_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', a: '\x07', e: '\x1b' };

/** echo -e / printf escapes: \n \t \\ \xHH \0NNN \NNN. */
function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) { out += c; continue; }
    const n = s[++i]!;
    const simple = ECHO_ESCAPES[n];
    if (simple !== undefined) { out += simple; continue; }
    const radix = n === 'x' ? 16 : n >= '0' && n <= '7' ? 8 : 0;
    if (!radix) { out += '\\' + n; continue; }
    let digits = radix === 8 && n !== '0' ? n : '';
    const max = radix === 16 ? 2 : 3;
    while (digits.length < max && i + 1 < s.length && !Number.isNaN(parseInt(s[i + 1]!, radix))) digits += s[++i];
    out += digits ? String.fromCharCode(parseInt(digits, radix)) : '';
  }
  return out;
}
