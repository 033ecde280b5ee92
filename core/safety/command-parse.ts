/**
 * The script level of the command-safety parser: commands, operators, `( )` and `{ }` groups, function
 * definitions, redirects and heredocs (words come from command-lex.ts). `parseShell` turns one command
 * line into simple commands, keeping pipelines so rules can see what feeds what.
 *
 * It never throws and never backtracks: every loop step advances the cursor, nesting is capped at
 * MAX_NEST and total work at a budget (past either, the script is marked opaque and the classifier
 * flags it), and anything it does not understand is kept as literal text. Best effort is the point: a
 * classifier must read what an attacker wrote, not what a POSIX grammar accepts.
 */
import {
  finish, isBlank, MAX_FUNCTIONS, MAX_NEST, newCommand, NO_REDIRECTS, NO_SUBS, opaqueScript, POISONED,
  type Budget, type Item, type Redirect, type Script, type SimpleCommand, type VarValue, type Vars, type Word,
} from './command-ast.js';
import { WordLexer } from './command-lex.js';

export type { Heredoc, Item, Redirect, Script, SimpleCommand, Word } from './command-ast.js';

// Variable values are capped so `a=$a$a` repeated cannot grow without bound.
const MAX_VAR_LENGTH = 4096;
// Substitutions remembered per variable across `+=` appends.
const MAX_SUBS = 16;
const DECLARERS = new Set(['export', 'declare', 'local', 'readonly', 'typeset']);
const REDIRECT_OPS = ['&>>', '&>', '<<<', '<<-', '<<', '<>', '<&', '>>', '>|', '>&', '<', '>'];

/** Parses shell text into a Script. Never throws. */
export function parseShell(src: string): Script {
  const budget: Budget = { left: 2 * src.length + 262_144, exceeded: false };
  const script = new Parser(src, 0, new Map(), budget).script(false);
  if (budget.exceeded) script.opaque = true;
  return script;
}

// An open group: the token that closes it, marked when it is a function body (`}f`, `)f`). Strings, not
// objects: a 100 KB line can open tens of thousands of groups.
type Group = '}' | ')' | '}f' | ')f';

class Parser extends WordLexer {
  private pending: Redirect[] = [];

  constructor(src: string, nest: number, vars: Vars, budget: Budget) {
    super(src, nest, vars, budget);
  }

  protected child(text: string): Parser | null {
    this.budget.left -= text.length;
    if (this.budget.left < 0 || this.nest >= MAX_NEST) { this.budget.exceeded = true; return null; }
    return new Parser(text, this.nest + 1, this.vars, this.budget);
  }

  script(inSub: boolean): Script {
    const s = this.src;
    const items: Item[] = [];
    const groups: Group[] = [];
    let openParens = 0; // how many of `groups` close with `)`
    // Enclosing function names; commands share one snapshot of the innermost few until the stack changes.
    const fns: string[] = [];
    let fnView: string[] = [];
    let fnChanged = false;
    const st: { cur: SimpleCommand | null; fn: string | null } = { cur: null, fn: null };
    const end = () => {
      const c = st.cur;
      st.cur = null;
      if (c && (c.words.length || c.redirects.length)) {
        items.push(c);
        this.remember(c);
      }
    };
    const op = (o: string) => { end(); items.push(o); };
    const open = (close: '}' | ')') => {
      op(close === '}' ? '{' : '(');
      groups.push(st.fn !== null ? `${close}f` as Group : close);
      if (close === ')') openParens++;
      if (st.fn !== null) { fns.push(st.fn); fnChanged = true; }
      st.fn = null;
    };
    const close = (c: '}' | ')') => {
      while (groups.length) {
        const g = groups.pop()!;
        if (g.length === 2) { fns.pop(); fnChanged = true; }
        if (g[0] === ')') openParens--;
        if (g[0] === c) break;
      }
      op(c);
    };
    const current = () => {
      if (fnChanged) { fnView = fns.slice(-MAX_FUNCTIONS); fnChanged = false; }
      return (st.cur ??= newCommand(fnView));
    };

    while (this.pos < s.length) {
      const c = s[this.pos]!;
      const n = s.charAt(this.pos + 1);
      if (isBlank(c)) { this.pos++; continue; }
      if (c === '\\' && n === '\n') { this.pos += 2; continue; }
      if (c === '\n') { this.pos++; op(';'); this.readHeredocs(); continue; }
      if (c === '#') { const nl = s.indexOf('\n', this.pos); this.pos = nl < 0 ? s.length : nl; continue; }
      if (c === ';') { this.pos += n === ';' || n === '&' ? 2 : 1; if (s.charAt(this.pos) === '&') this.pos++; op(';'); continue; }
      if (c === '&' && n === '&') { this.pos += 2; op('&&'); continue; }
      if (c === '&' && n !== '>') { this.pos++; if (st.cur) st.cur.background = true; op('&'); continue; }
      if (c === '|') { this.pos += n === '|' || n === '&' ? 2 : 1; op(n === '|' ? '||' : '|'); continue; }
      // `((…))` arithmetic is read as two nested groups: it can hold `$(…)`, and stray words are harmless.
      if (c === '(') {
        const cur = st.cur;
        const after = this.nextNonBlank(this.pos + 1);
        if (cur && cur.words.length === 1 && !cur.redirects.length && s.charAt(after) === ')') {
          st.fn = cur.words[0]!.text;
          st.cur = null;
          items.push(`${st.fn}()`);
          this.pos = after + 1;
          continue;
        }
        this.pos++;
        open(')');
        continue;
      }
      if (c === ')') {
        this.pos++;
        if (openParens > 0) close(')');
        else if (inSub) break;
        continue;
      }
      if (((c === '<' || c === '>') && n !== '(') || (c === '&' && n === '>') || (c >= '0' && c <= '9' && this.redirectAhead())) {
        this.redirect(current());
        continue;
      }
      if (!st.cur) {
        if (c === '{' && (st.fn !== null || n === '' || isBlank(n) || n === '\n')) { this.pos++; open('}'); continue; }
        if (c === '}' && groups.length && groups[groups.length - 1]![0] === '}') { this.pos++; close('}'); continue; }
      }
      // Plain words go straight into the command, the first one included (no array per word).
      if (this.plainWord(current().words)) {
        const cur = st.cur!;
        if (cur.words.length === 1 && cur.words[0]!.text === 'function') {
          st.cur = null;
          if (this.functionKeyword(st, items)) continue;
          st.cur = cur;
        }
        st.fn = null; // `f() cmd` without a group body: nothing later is f's body
        continue;
      }
      const before = this.pos;
      const words = this.readWords();
      if (this.pos === before) this.pos++;
      if (!words.length) continue;
      if (!st.cur && words.length === 1 && words[0]!.text === 'function' && !words[0]!.quoted && this.functionKeyword(st, items)) continue;
      st.fn = null; // `f() cmd` without a group body: nothing later is f's body
      const cur = current();
      for (const w of words) cur.words.push(w);
    }
    end();
    return finish(items);
  }

  // `function name { … }` and `function name() { … }`: the next group is that function's body.
  private functionKeyword(st: { fn: string | null }, items: Item[]): boolean {
    this.pos = this.nextNonBlank(this.pos);
    const name = this.readWords()[0];
    if (!name) return false;
    let p = this.nextNonBlank(this.pos);
    if (this.src.charAt(p) === '(' && this.src.charAt(this.nextNonBlank(p + 1)) === ')') p = this.nextNonBlank(p + 1) + 1;
    this.pos = p;
    st.fn = name.text;
    items.push(`function ${name.text}`);
    return true;
  }

  private redirectAhead(): boolean {
    let i = this.pos;
    while (i < this.src.length && this.src[i]! >= '0' && this.src[i]! <= '9') i++;
    const c = this.src.charAt(i);
    return (c === '<' || c === '>') && this.src.charAt(i + 1) !== '(';
  }

  private redirect(cmd: SimpleCommand): void {
    const s = this.src;
    const start = this.pos;
    while (this.pos < s.length && s[this.pos]! >= '0' && s[this.pos]! <= '9') this.pos++;
    const fd = s.slice(start, this.pos);
    const op = REDIRECT_OPS.find((o) => s.startsWith(o, this.pos)) ?? s.charAt(this.pos);
    this.pos += op.length;
    this.pos = this.nextNonBlank(this.pos);
    const words = this.readWords();
    const target = words.shift() ?? { text: '', quoted: false, assignment: false, subs: NO_SUBS };
    for (const w of words) cmd.words.push(w);
    const r: Redirect = { fd, op, target };
    if (cmd.redirects === NO_REDIRECTS) cmd.redirects = [];
    cmd.redirects.push(r);
    if (op === '<<' || op === '<<-') this.pending.push(r);
  }

  private readHeredocs(): void {
    const s = this.src;
    for (const r of this.pending) {
      const stripTabs = r.op === '<<-';
      let body = '';
      while (this.pos < s.length) {
        const nl = s.indexOf('\n', this.pos);
        const stop = nl < 0 ? s.length : nl;
        let line = s.slice(this.pos, stop);
        this.pos = stop + 1;
        if (line.endsWith('\r')) line = line.slice(0, -1);
        if (stripTabs) line = line.replace(/^\t+/, '');
        if (line === r.target.text) break;
        body += line + '\n';
      }
      this.pos = Math.min(this.pos, s.length);
      const subs = !r.target.quoted && (body.includes('$') || body.includes('`'))
        ? this.child(body)?.expansions() ?? [opaqueScript()] : [];
      r.heredoc = { body, subs };
    }
    this.pending = [];
  }

  // `a=rm; $a -rf /` and `export a=rm`: remember simple assignments so later words expand.
  private remember(cmd: SimpleCommand): void {
    const w = cmd.words;
    let i = 0;
    if (w.length && !w[0]!.quoted && DECLARERS.has(w[0]!.text)) i = 1;
    else if (!w.every((x) => x.assignment)) return;
    for (; i < w.length; i++) {
      const x = w[i]!;
      if (!x.assignment) continue;
      const eq = x.text.indexOf('=');
      let name = x.text.slice(0, eq);
      let text = x.text.slice(eq + 1);
      if (text.startsWith('(') && text.endsWith(')')) text = text.slice(1, -1); // an array: its elements
      let value: VarValue = { text, subs: x.subs };
      if (name.endsWith('+')) {
        name = name.slice(0, -1);
        const old = this.vars.get(name);
        if (old === POISONED) value = POISONED;
        else if (old) value = { text: old.text + value.text, subs: [...old.subs, ...value.subs].slice(-MAX_SUBS) };
      }
      // Too long to track: expanding it later must not read as "unknown, so harmless".
      this.vars.set(name, value.text.length > MAX_VAR_LENGTH ? POISONED : value);
    }
  }
}
