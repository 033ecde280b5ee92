/**
 * The word-level half of the command-safety parser: one shell word at a time, with quotes removed and
 * the expansions we can resolve resolved. Single and double quotes, backslashes, `$'…'` ANSI-C strings,
 * `${IFS}`, `$@`, variables assigned earlier in the line, `${x:-default}`, `${PATH:0:1}`, `$(…)`,
 * backticks and `<(…)` all end up as plain text plus nested scripts. The script-level half
 * (command-parse.ts) extends this class.
 */
import {
  isAssignment, isBlank, isNameChar, isNameStart, literalOutput, MAX_NEST, NO_SUBS, opaqueScript, POISONED, Sink,
  type Budget, type Script, type VarValue, type Vars, type Word,
} from './command-ast.js';
import { renderScript } from './command-shape.js';

export const BREAK = new Set([' ', '\t', '\r', '\n', ';', '&', '|', '(', ')', '<', '>']);
// Characters that end a run of plain word text, unquoted and inside double quotes.
const SPECIAL = new Set([...BREAK, '\\', "'", '"', '$', '`']);
const DQ_SPECIAL = new Set(['"', '\\', '$', '`']);
// Variables a default (`${HOME:-/}`) must not replace: they are almost always set.
const ALWAYS_SET = new Set(['HOME', 'PATH', 'USER', 'PWD', 'SHELL', 'LOGNAME', 'TMPDIR', 'OLDPWD']);
const PATH_LIKE = new Set(['PATH', 'HOME', 'PWD', 'SHELL', 'OLDPWD', 'TMPDIR']);
const ANSI_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v' };
const ARRAY_ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*\+?=$/;

export abstract class WordLexer {
  pos = 0;

  constructor(protected readonly src: string, protected nest: number, protected readonly vars: Vars, protected readonly budget: Budget) {}

  /** Parses commands up to EOF, or up to the `)` closing a substitution when `inSub`. */
  abstract script(inSub: boolean): Script;
  /** A lexer for text derived from this one (a backtick body, a default), charged to the same budget. */
  protected abstract child(text: string): WordLexer | null;

  protected nextNonBlank(i: number): number {
    while (i < this.src.length && isBlank(this.src[i]!)) i++;
    return i;
  }

  /** The substitutions in text read as a double-quoted string (an unquoted heredoc body). */
  expansions(): Script[] {
    const sink = new Sink();
    this.double(sink, null);
    return sink.subs;
  }

  /** Fast path: a plain word (no quotes, escapes or expansions) goes straight to `out`, no Sink. */
  protected plainWord(out: Word[]): boolean {
    const s = this.src;
    const c0 = s.charAt(this.pos);
    if (c0 === '{' || SPECIAL.has(c0)) return false;
    let e = this.pos + 1;
    while (e < s.length && !SPECIAL.has(s[e]!)) e++;
    const next = s.charAt(e);
    if (next !== '' && !BREAK.has(next)) return false;
    const text = s.slice(this.pos, e);
    if (next === '(' && text.endsWith('=')) return false; // `a=(x y)`: an array, read by readWords
    this.pos = e;
    out.push({ text, quoted: false, assignment: isAssignment(text, -1), subs: NO_SUBS });
    return true;
  }

  protected readWords(): Word[] {
    const s = this.src;
    const words: Word[] = [];
    if (this.plainWord(words)) return words;
    const c0 = s.charAt(this.pos);
    const sink = new Sink();
    if ((c0 === '<' || c0 === '>') && s.charAt(this.pos + 1) === '(') {
      this.pos += 2;
      const inner = this.sub();
      sink.sub(inner);
      sink.procSub = c0;
      sink.add(`${c0}(${renderScript(inner)})`);
      return sink.done();
    }
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (BREAK.has(c)) {
        if (c === '(' && !sink.quoted && ARRAY_ASSIGNMENT.test(sink.text)) {
          const e = this.skipBalanced(this.pos);
          sink.add(s.slice(this.pos, e));
          this.pos = e;
          continue;
        }
        break;
      }
      if (c === '\\') {
        const n = s.charAt(this.pos + 1);
        if (n !== '\n' && n !== '') { sink.quote(); sink.add(n); }
        this.pos += 2;
      } else if (c === "'") {
        const e = s.indexOf("'", this.pos + 1);
        const stop = e < 0 ? s.length : e;
        sink.quote();
        sink.add(s.slice(this.pos + 1, stop));
        this.pos = stop + 1;
      } else if (c === '"') {
        this.pos++;
        this.double(sink, '"');
      } else if (c === '$') this.dollar(sink, false);
      else if (c === '`') this.backtick(sink, false);
      else {
        let e = this.pos + 1;
        while (e < s.length && !SPECIAL.has(s[e]!)) e++;
        sink.add(s.slice(this.pos, e));
        this.pos = e;
      }
    }
    this.pos = Math.min(this.pos, s.length);
    return sink.done();
  }

  protected double(sink: Sink, term: '"' | null): void {
    const s = this.src;
    sink.quote();
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === term) { this.pos++; return; }
      if (c === '\\') {
        const n = s.charAt(this.pos + 1);
        if (n === '\n') { this.pos += 2; continue; }
        if (n !== '' && '$`"\\'.includes(n)) { sink.add(n); this.pos += 2; continue; }
        sink.add('\\');
        this.pos++;
      } else if (c === '$') this.dollar(sink, true);
      else if (c === '`') this.backtick(sink, true);
      else {
        let e = this.pos + 1;
        while (e < s.length && !DQ_SPECIAL.has(s[e]!)) e++;
        sink.add(s.slice(this.pos, e));
        this.pos = e;
      }
    }
  }

  protected dollar(sink: Sink, dq: boolean): void {
    const s = this.src;
    const n = s.charAt(this.pos + 1);
    if (!dq && n === "'") { this.pos += 2; sink.quote(); sink.add(this.ansiC()); return; }
    if (!dq && n === '"') { this.pos += 2; this.double(sink, '"'); return; }
    // `$((…))` is read like `$( (…) )`: arithmetic can hold `$(…)` too, and stray words are harmless.
    if (n === '(') {
      this.pos += 2;
      this.substituted(sink, this.sub(), dq);
      return;
    }
    if (n === '{') {
      let e = this.pos + 2;
      let depth = 1;
      while (e < s.length) {
        if (s[e] === '{') depth++;
        else if (s[e] === '}' && --depth === 0) break;
        e++;
      }
      const body = s.slice(this.pos + 2, e);
      this.pos = Math.min(e + 1, s.length);
      this.param(sink, body, dq);
      return;
    }
    if (isNameStart(n)) {
      let e = this.pos + 1;
      while (e < s.length && isNameChar(s[e]!)) e++;
      const name = s.slice(this.pos + 1, e);
      this.pos = e;
      this.expand(sink, name, dq, false);
      return;
    }
    if (n === '@' || n === '*') { this.pos += 2; return; }
    if (n !== '' && '0123456789#?$!-'.includes(n)) { sink.add('$' + n); this.pos += 2; return; }
    sink.add('$');
    this.pos++;
  }

  // `${…}` bodies: IFS is a word break, defaults apply to names we know are unset, `${PATH:0:1}` is `/`.
  protected param(sink: Sink, body: string, dq: boolean): void {
    if (body === 'IFS' || (body.startsWith('IFS') && !isNameChar(body.charAt(3)))) { this.expand(sink, 'IFS', dq, true); return; }
    if (body.startsWith('@') || body.startsWith('*')) return;
    let i = 0;
    while (i < body.length && (i === 0 ? isNameStart(body[i]!) : isNameChar(body[i]!))) i++;
    const name = body.slice(0, i);
    const rest = body.slice(i);
    if (!name) { sink.add('${' + body + '}'); return; }
    // `${a[@]}`, `${a[0]}`: an array element reads as the whole array (assigned as `a=(…)`).
    if (rest === '[@]' || rest === '[*]') { this.expand(sink, name, dq && rest === '[*]', true); return; }
    if (rest === '' || (rest.startsWith('[') && rest.endsWith(']'))) { this.expand(sink, name, dq, true); return; }
    const known = this.vars.get(name);
    if (known === POISONED) { this.budget.exceeded = true; return; }
    const dflt = /^:?[-=]/.exec(rest);
    if (dflt) {
      if (known !== undefined) this.value(sink, known, dq);
      else if (ALWAYS_SET.has(name)) this.expand(sink, name, dq, true);
      else if (this.nest >= MAX_NEST) sink.add('${' + body + '}');
      else {
        const words = this.child(rest.slice(dflt[0].length))?.script(false).commands.flatMap((c) => c.words) ?? [];
        this.value(sink, { text: words.map((w) => w.text).join(' '), subs: words.flatMap((w) => w.subs) }, dq);
      }
      return;
    }
    const slice = /^:(\d{1,6})(?::(\d{1,6}))?$/.exec(rest);
    if (slice) {
      const off = Number(slice[1]);
      const len = slice[2] === undefined ? undefined : Number(slice[2]);
      if (known !== undefined) { this.value(sink, { text: known.text.substr(off, len), subs: known.subs }, dq); return; }
      if (PATH_LIKE.has(name) && off === 0 && len === 1) { this.value(sink, { text: '/', subs: [] }, dq); return; }
    }
    sink.add('${' + body + '}');
  }

  protected expand(sink: Sink, name: string, dq: boolean, braced: boolean): void {
    if (name === 'IFS') { if (dq) sink.add(' '); else sink.flush(); return; }
    const v = this.vars.get(name);
    if (v === POISONED) { this.budget.exceeded = true; return; }
    if (v !== undefined) { this.value(sink, v, dq); return; }
    sink.add(braced && isNameChar(this.src.charAt(this.pos)) ? '${' + name + '}' : '$' + name);
  }

  // An unquoted expansion is split on whitespace into separate words, as the shell does.
  protected value(sink: Sink, v: VarValue, dq: boolean): void {
    this.budget.left -= v.text.length;
    if (this.budget.left < 0) { this.budget.exceeded = true; return; }
    const t = v.text;
    if (dq) sink.add(t);
    else {
      let start = 0;
      for (let i = 0; i <= t.length; i++) {
        const ch = t.charAt(i);
        if (i < t.length && !isBlank(ch) && ch !== '\n') continue;
        if (i > start) sink.add(t.slice(start, i));
        if (i < t.length) sink.flush();
        start = i + 1;
      }
    }
    for (const sub of v.subs) sink.sub(sub);
  }

  protected ansiC(): string {
    const s = this.src;
    let out = '';
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (c === "'") { this.pos++; return out; }
      if (c !== '\\') { out += c; this.pos++; continue; }
      const n = s.charAt(this.pos + 1);
      this.pos += 2;
      const simple = ANSI_ESCAPES[n];
      if (simple !== undefined) out += simple;
      else if (n === 'x') out += this.codePoint(16, 2);
      else if (n === 'u') out += this.codePoint(16, 4);
      else if (n === 'U') out += this.codePoint(16, 8);
      else if (n >= '0' && n <= '7' && n !== '') { this.pos--; out += this.codePoint(8, 3); }
      else if (n === 'c') { out += String.fromCharCode(s.charCodeAt(this.pos) & 0x1f); this.pos++; }
      else out += n;
    }
    return out;
  }

  protected codePoint(radix: number, max: number): string {
    let digits = '';
    while (digits.length < max && this.pos < this.src.length && !Number.isNaN(parseInt(this.src[this.pos]!, radix))) digits += this.src[this.pos++];
    const cp = parseInt(digits, radix);
    return Number.isNaN(cp) || cp > 0x10ffff ? '' : String.fromCodePoint(cp);
  }

  protected backtick(sink: Sink, dq: boolean): void {
    const s = this.src;
    let i = this.pos + 1;
    let inner = '';
    while (i < s.length && s[i] !== '`') {
      if (s[i] === '\\' && i + 1 < s.length) {
        const n = s[i + 1]!;
        inner += n === '`' || n === '\\' || n === '$' ? n : '\\' + n;
        i += 2;
        continue;
      }
      inner += s[i];
      i++;
    }
    this.pos = Math.min(i + 1, s.length);
    const script = this.child(inner)?.script(false) ?? opaqueScript();
    this.substituted(sink, script, dq);
  }

  // `$(echo /)` is `/`: fold substitutions whose output is literal, keep the script for the walker.
  protected substituted(sink: Sink, inner: Script, dq: boolean): void {
    const lit = literalOutput(inner);
    if (lit === null) {
      sink.sub(inner);
      sink.add(`$(${renderScript(inner)})`);
      return;
    }
    this.value(sink, { text: lit, subs: [] }, dq);
    sink.sub(inner);
  }

  // Cursor is just past `$(` or `<(`; past MAX_NEST the text is skipped, not parsed.
  protected sub(): Script {
    if (this.nest >= MAX_NEST) {
      this.pos = this.skipBalanced(this.pos - 1);
      return opaqueScript();
    }
    this.nest++;
    const inner = this.script(true);
    this.nest--;
    return inner;
  }

  /** Index just past the `)` matching the `(` at `open`, honouring quotes and escapes; EOF if none. */
  protected skipBalanced(open: number): number {
    const s = this.src;
    let depth = 0;
    for (let i = open; i < s.length; i++) {
      const c = s[i]!;
      if (c === '\\') { i++; continue; }
      if (c === "'") { const e = s.indexOf("'", i + 1); if (e < 0) return s.length; i = e; continue; }
      if (c === '(') depth++;
      else if (c === ')' && --depth === 0) return i + 1;
    }
    return s.length;
  }
}
