/**
 * A small, strict YAML reader for SKILL.md frontmatter. It reads the part of YAML that frontmatter uses
 * (block mappings and sequences, flow `[...]`/`{...}` on one line, plain, quoted and block `|`/`>`
 * scalars, comments) and refuses the rest with the line and a fix, instead of guessing: anchors (`&a`),
 * aliases (`*a`), tags (`!x`), merge keys (`<<`), complex keys (`?`), directives and duplicate keys.
 * Refusing anchors and aliases also rules out "billion laughs" expansion.
 *
 * Plain scalars are strings except `true`/`false` (booleans) and `null`/`~`/nothing (null); numbers stay
 * text, so `version: 1.10` is "1.10", not 1.1. Unlike YAML proper, a plain value may contain `: ` on its
 * own line (descriptions often do); a continuation line that looks like `key: value` is refused as
 * ambiguous.
 */

export type YamlValue = string | boolean | null | YamlValue[] | { [key: string]: YamlValue };
export type YamlMap = { [key: string]: YamlValue };

export class YamlError extends Error {
  constructor(readonly line: number, message: string, readonly fix: string) {
    super(message);
    this.name = 'YamlError';
  }
}

interface Line {
  no: number;
  indent: number;
  /** Without the indentation and trailing spaces. */
  text: string;
  /** Blank or comment only. */
  blank: boolean;
  raw: string;
}

const FIX_QUOTE = 'Put the value in double quotes.';

/** Parses frontmatter text; `firstLine` is the file line number of its first line (for messages). */
export function parseYaml(source: string, firstLine = 1): YamlMap {
  const lines: Line[] = source.split('\n').map((raw0, i) => {
    const raw = raw0.endsWith('\r') ? raw0.slice(0, -1) : raw0;
    const no = firstLine + i;
    const indentText = /^[ \t]*/.exec(raw)![0];
    const text = raw.slice(indentText.length).replace(/\s+$/, '');
    const blank = text === '' || text.startsWith('#');
    if (!blank && indentText.includes('\t')) throw new YamlError(no, 'indentation uses a tab', 'Indent with spaces only.');
    return { no, indent: indentText.length, text, blank, raw };
  });
  const p = new Parser(lines);
  const first = p.peek();
  if (!first) return {};
  if (first.indent !== 0) throw new YamlError(first.no, 'the first key is indented', 'Start top-level keys at the beginning of the line.');
  if (isSeqItem(first.text)) throw new YamlError(first.no, 'the frontmatter is a list, not a mapping of keys', 'Write `key: value` lines (name, description, ...).');
  const out = p.map(0);
  const rest = p.peek();
  if (rest) throw new YamlError(rest.no, 'this line does not belong to any key (wrong indentation?)', 'Align it with the keys above, or indent it under the key it belongs to.');
  return out;
}

function isSeqItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

class Parser {
  private i = 0;
  constructor(private readonly lines: Line[]) {}

  /** The next line that is not blank or a comment. */
  peek(): Line | undefined {
    while (this.i < this.lines.length && this.lines[this.i]!.blank) this.i++;
    return this.lines[this.i];
  }

  map(indent: number): YamlMap {
    const out: YamlMap = {};
    const seenAt = new Map<string, number>();
    for (let line = this.peek(); line && line.indent >= indent; line = this.peek()) {
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation', 'Align this key with the keys above it.');
      if (isSeqItem(line.text)) throw new YamlError(line.no, 'a list item where a key was expected', 'Indent list items under their key, or add the missing `key:` line.');
      const { key, rest } = splitKey(line);
      const first = seenAt.get(key);
      if (first !== undefined) throw new YamlError(line.no, `duplicate key '${key}' (first at line ${first})`, 'Keep one of the two.');
      seenAt.set(key, line.no);
      this.i++;
      out[key] = this.value(rest, indent, line.no);
    }
    return out;
  }

  seq(indent: number): YamlValue[] {
    const out: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent === indent && isSeqItem(line.text); line = this.peek()) {
      const after = line.text.slice(1);
      const rest = after.trimStart();
      if (rest !== '' && !rest.startsWith('#') && looksLikeKey(rest)) {
        // `- key: value`: a mapping whose keys sit where `key` starts.
        const at = indent + 1 + (after.length - rest.length);
        this.lines[this.i] = { ...line, indent: at, text: rest };
        out.push(this.map(at));
      } else {
        this.i++;
        out.push(this.value(rest, indent, line.no));
      }
    }
    const stray = this.peek();
    if (stray && stray.indent > indent && !isSeqItem(stray.text)) {
      throw new YamlError(stray.no, 'this line continues a list item in a way that cannot be read', `${FIX_QUOTE} Or indent nested keys under \`- key:\`.`);
    }
    return out;
  }

  /** The value after `key:` (or `- `) at `owner` indentation; `rest` is what follows on the same line. */
  value(rest0: string, owner: number, no: number): YamlValue {
    const rest = rest0.startsWith('#') ? '' : rest0;
    if (rest === '') {
      const next = this.peek();
      if (!next || next.indent < owner) return null;
      if (next.indent === owner) return isSeqItem(next.text) ? this.seq(owner) : null;
      return isSeqItem(next.text) ? this.seq(next.indent) : this.map(next.indent);
    }
    refuseIndicators(rest, no);
    if (rest[0] === '|' || rest[0] === '>') return this.block(rest, owner, no);
    if (rest[0] === '[' || rest[0] === '{') {
      const flow = new Flow(rest, no);
      const v = flow.value();
      flow.end();
      return v;
    }
    if (rest[0] === '"' || rest[0] === "'") return this.quoted(rest, no);
    if (isSeqItem(rest)) throw new YamlError(no, 'a list cannot start on the same line as its key', 'Put each `- item` on its own line, indented under the key.');
    // Plain scalar, possibly continued on more-indented lines.
    let text = stripComment(rest);
    for (let next = this.peekRaw(); next && (next.blank ? next.text === '' : next.indent > owner); next = this.peekRaw()) {
      if (next.blank) {
        // A blank line inside a multi-line plain value is a line break, if the value goes on after it.
        const after = this.lookPastBlanks();
        if (!after || after.indent <= owner) break;
        text += '\n';
        this.i++;
        continue;
      }
      if (looksLikeKey(next.text) || isSeqItem(next.text)) {
        throw new YamlError(next.no, 'this indented line looks like a key or a list item, but the key above already has a value', `Fix the indentation, or ${FIX_QUOTE.toLowerCase()}`);
      }
      refuseIndicators(next.text, next.no);
      text += (text.endsWith('\n') ? '' : ' ') + stripComment(next.text);
      this.i++;
    }
    return typed(text);
  }

  private peekRaw(): Line | undefined {
    return this.lines[this.i];
  }

  private lookPastBlanks(): Line | undefined {
    for (let j = this.i; j < this.lines.length; j++) if (!this.lines[j]!.blank) return this.lines[j];
    return undefined;
  }

  private block(header: string, owner: number, no: number): string {
    const m = /^([|>])([+-]?)([1-9]?)([+-]?)\s*(#.*)?$/.exec(header);
    if (!m) throw new YamlError(no, `cannot read the block scalar header ${JSON.stringify(header)}`, 'Use `|` or `>` (optionally `|-`, `>-`, `|+`), with the text on the following, indented lines.');
    const folded = m[1] === '>';
    const chomp = m[2] || m[4];
    let indent = m[3] ? owner + Number(m[3]) : -1;
    const body: string[] = [];
    while (this.i < this.lines.length) {
      const line = this.lines[this.i]!;
      const content = line.raw.trim() === '';
      if (!content) {
        const ind = line.raw.length - line.raw.trimStart().length;
        if (line.raw.slice(0, ind).includes('\t') && (indent < 0 || ind < indent)) throw new YamlError(line.no, 'indentation uses a tab', 'Indent with spaces only.');
        if (indent < 0) {
          if (ind <= owner) break;
          indent = ind;
        }
        if (ind < indent) break;
        body.push(line.raw.slice(indent));
      } else body.push('');
      this.i++;
    }
    while (body.length && body[body.length - 1] === '' && chomp !== '+') body.pop();
    let text: string;
    if (folded) {
      // Lines fold into spaces; an empty line is a line break; more-indented lines keep theirs.
      text = '';
      let prev: string | undefined;
      for (const l of body) {
        if (prev === undefined) text = l;
        else if (l === '') text += '\n';
        else if (prev === '') text += l;
        else if (l.startsWith(' ') || prev.startsWith(' ')) text += `\n${l}`;
        else text += ` ${l}`;
        prev = l;
      }
    } else text = body.join('\n');
    if (chomp === '-') return text;
    return body.length ? `${text}\n` : '';
  }

  private quoted(rest: string, no: number): string {
    const q = rest[0]!;
    let out = '';
    let s = rest.slice(1);
    let lineNo = no;
    for (;;) {
      let k = 0;
      let closed = false;
      for (; k < s.length; k++) {
        const ch = s[k]!;
        if (q === "'" && ch === "'") {
          if (s[k + 1] === "'") {
            out += "'";
            k++;
            continue;
          }
          closed = true;
          break;
        }
        if (q === '"' && ch === '\\') {
          const [text, used] = unescape(s, k, lineNo);
          out += text;
          k += used - 1;
          continue;
        }
        if (q === '"' && ch === '"') {
          closed = true;
          break;
        }
        out += ch;
      }
      if (closed) {
        const after = s.slice(k + 1).trim();
        if (after !== '' && !after.startsWith('#')) throw new YamlError(lineNo, `text after the closing quote: ${JSON.stringify(after)}`, 'Put the whole value inside the quotes.');
        return out;
      }
      // The value goes on to the next line: the break folds into one space, empty lines into line breaks.
      out = out.replace(/[ \t]+$/, '');
      let breaks = 0;
      for (;;) {
        const next = this.lines[this.i];
        if (!next) throw new YamlError(no, 'a quoted value is never closed', 'Add the closing quote.');
        this.i++;
        lineNo = next.no;
        const t = next.raw.trim();
        if (t === '') {
          breaks++;
          continue;
        }
        s = t;
        break;
      }
      out += breaks ? '\n'.repeat(breaks) : ' ';
    }
  }
}

/** `key: rest` (or `key:`), with the key plain or quoted; refuses what frontmatter never needs. */
function splitKey(line: Line): { key: string; rest: string } {
  const t = line.text;
  if (t.startsWith('? ') || t === '?') throw new YamlError(line.no, 'complex keys (`? key`) are not supported', 'Write a plain `key: value`.');
  if (t.startsWith('&')) throw new YamlError(line.no, 'anchors (`&name`) are not allowed in SKILL.md frontmatter', 'Write the value out in full instead of using anchors and aliases.');
  if (t.startsWith('*')) throw new YamlError(line.no, 'aliases (`*name`) are not allowed in SKILL.md frontmatter', 'Write the value out in full instead of using anchors and aliases.');
  if (t.startsWith('!')) throw new YamlError(line.no, 'tags (`!type`) are not allowed in SKILL.md frontmatter', 'Remove the tag.');
  if (t.startsWith('%')) throw new YamlError(line.no, 'YAML directives are not allowed in SKILL.md frontmatter', 'Remove the directive line.');
  let key: string;
  let rest: string;
  if (t[0] === '"' || t[0] === "'") {
    const close = t.indexOf(t[0], 1);
    if (close < 0 || t[close + 1] !== ':') throw new YamlError(line.no, 'cannot read this quoted key', 'Write `"key": value`, or use a plain key.');
    key = t.slice(1, close);
    rest = t.slice(close + 2);
  } else {
    const m = /^([^\s:#][^:]*?)\s*:(?:\s+|$)/.exec(t);
    if (!m) throw new YamlError(line.no, `expected \`key: value\`, found ${JSON.stringify(t.slice(0, 60))}`, 'Write each field as `key: value` (with a space after the colon).');
    key = m[1]!;
    rest = t.slice(m[0].length);
  }
  if (key === '<<') throw new YamlError(line.no, 'merge keys (`<<`) are not allowed in SKILL.md frontmatter', 'Write the keys out in full.');
  return { key, rest: rest.trim() };
}

function looksLikeKey(text: string): boolean {
  return /^(?:"[^"]*"|'[^']*'|[^\s:#"'\-[{][^:]*?)\s*:(?:\s|$)/.test(text) || /^[A-Za-z0-9_.-]+:$/.test(text);
}

function refuseIndicators(text: string, no: number): void {
  const c = text[0];
  if (c === '&') throw new YamlError(no, 'anchors (`&name`) are not allowed in SKILL.md frontmatter', 'Write the value out in full instead of using anchors and aliases.');
  if (c === '*') throw new YamlError(no, 'aliases (`*name`) are not allowed in SKILL.md frontmatter', 'Write the value out in full instead of using anchors and aliases.');
  if (c === '!') throw new YamlError(no, 'tags (`!type`) are not allowed in SKILL.md frontmatter', 'Remove the tag, or quote the value.');
  if (c === '@' || c === '`' || c === '%') throw new YamlError(no, `a plain value cannot start with ${JSON.stringify(c)}`, FIX_QUOTE);
}

function stripComment(text: string): string {
  const k = text.search(/\s#/);
  return (k < 0 ? text : text.slice(0, k)).trim();
}

function typed(text: string): YamlValue {
  if (text === '' || text === '~' || /^(null|Null|NULL)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  return text;
}

const ESCAPES: Record<string, string> = { '0': '\0', a: '\x07', b: '\b', t: '\t', '\t': '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b', ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029' };

function unescape(s: string, k: number, no: number): [string, number] {
  const c = s[k + 1];
  if (c === undefined) return ['', 1];
  if (c in ESCAPES) return [ESCAPES[c]!, 2];
  const len = c === 'x' ? 2 : c === 'u' ? 4 : c === 'U' ? 8 : 0;
  const hex = s.slice(k + 2, k + 2 + len);
  if (len && /^[0-9a-fA-F]+$/.test(hex) && hex.length === len) {
    const cp = parseInt(hex, 16);
    if (cp <= 0x10ffff) return [String.fromCodePoint(cp), 2 + len];
  }
  throw new YamlError(no, `unknown escape \\${c} in a double-quoted value`, 'Write a backslash as \\\\, or use single quotes.');
}

/** `[a, b]` and `{k: v}` on one line. */
class Flow {
  private k = 0;
  constructor(private readonly s: string, private readonly no: number) {}

  value(): YamlValue {
    this.space();
    const c = this.s[this.k];
    if (c === '[') return this.list();
    if (c === '{') return this.object();
    if (c === '"' || c === "'") return this.quoted();
    if (c === '&' || c === '*' || c === '!') refuseIndicators(this.s.slice(this.k), this.no);
    const m = /^[^,\]}]*/.exec(this.s.slice(this.k))!;
    this.k += m[0].length;
    const text = m[0].trim();
    if (/[[{]/.test(text)) throw new YamlError(this.no, `cannot read ${JSON.stringify(text)} inside [ ] or { }`, FIX_QUOTE);
    return typed(text);
  }

  end(): void {
    this.space();
    const rest = this.s.slice(this.k);
    if (rest !== '' && !rest.startsWith('#')) throw new YamlError(this.no, `text after the closing bracket: ${JSON.stringify(rest)}`, 'Remove it, or quote the whole value.');
  }

  private list(): YamlValue[] {
    this.k++;
    const out: YamlValue[] = [];
    for (;;) {
      this.space();
      if (this.s[this.k] === ']') {
        this.k++;
        return out;
      }
      out.push(this.value());
      this.space();
      const c = this.s[this.k];
      if (c === ',') this.k++;
      else if (c !== ']') throw this.unclosed(']');
    }
  }

  private object(): YamlMap {
    this.k++;
    const out: YamlMap = {};
    for (;;) {
      this.space();
      if (this.s[this.k] === '}') {
        this.k++;
        return out;
      }
      let key: string;
      if (this.s[this.k] === '"' || this.s[this.k] === "'") key = this.quoted();
      else {
        const m = /^[^:,}]*/.exec(this.s.slice(this.k))!;
        this.k += m[0].length;
        key = m[0].trim();
      }
      this.space();
      if (this.s[this.k] !== ':') throw new YamlError(this.no, `expected ':' after ${JSON.stringify(key)} inside { }`, 'Write `{ key: value, ... }`.');
      this.k++;
      if (key in out) throw new YamlError(this.no, `duplicate key '${key}'`, 'Keep one of the two.');
      out[key] = this.value();
      this.space();
      const c = this.s[this.k];
      if (c === ',') this.k++;
      else if (c !== '}') throw this.unclosed('}');
    }
  }

  private quoted(): string {
    const q = this.s[this.k]!;
    let out = '';
    for (let k = this.k + 1; k < this.s.length; k++) {
      const ch = this.s[k]!;
      if (q === "'" && ch === "'" && this.s[k + 1] === "'") {
        out += "'";
        k++;
      } else if (q === '"' && ch === '\\') {
        const [text, used] = unescape(this.s, k, this.no);
        out += text;
        k += used - 1;
      } else if (ch === q) {
        this.k = k + 1;
        return out;
      } else out += ch;
    }
    throw new YamlError(this.no, 'a quoted value is never closed', 'Add the closing quote.');
  }

  private space(): void {
    while (this.s[this.k] === ' ') this.k++;
  }

  private unclosed(ch: string): YamlError {
    return new YamlError(this.no, `expected ',' or '${ch}' (lists and maps in [ ] or { } must close on the same line)`, `Close it with '${ch}' on this line, or write it as an indented block.`);
  }
}
