/**
 * docs/errors.md and the code table in core/errors.ts stay in step: every code in ERRORS has exactly one
 * row in the doc (with a meaning, a fix and the anchor `caduceus doctor` links to), every row names a real
 * code, codes follow CAD_ERR_<AREA>_<WHAT>, and the "Exit codes" table lists the CLI's EXIT values.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';

const { ERRORS } = await import(join(ROOT, 'dist/core/errors.js')) as { ERRORS: Record<string, { meaning: string; fix: string }> };
const { EXIT } = await import(join(ROOT, 'dist/core/cli/output.js')) as { EXIT: Record<string, number> };

const DOC = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
const CODE_SHAPE = /^CAD_ERR_[A-Z]+_[A-Z_]+$/;

/** Splits a markdown table row into trimmed cells; `\|` inside a cell is not a separator. */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim());
}

interface Row {
  code: string; anchor: string | undefined; meaning: string; fix: string; cells: number;
  header: string[]; section: string | undefined; line: number;
}

function codeRows(): Row[] {
  const rows: Row[] = [];
  let section: string | undefined;
  let header: string[] | undefined;
  DOC.split('\n').forEach((line, i) => {
    if (line.startsWith('## ')) { section = line.slice(3).trim(); header = undefined; return; }
    if (!line.trim().startsWith('|')) { header = undefined; return; }
    const row = cells(line);
    if (!header) { header = row; return; }
    if (row.every((c) => /^:?-+:?$/.test(c))) return;
    const code = /`(CAD_ERR_[A-Za-z_]*)`/.exec(row[0] ?? '')?.[1];
    if (!code) return;
    rows.push({
      code, anchor: /<a id="([^"]+)"><\/a>/.exec(row[0]!)?.[1], meaning: row[1] ?? '', fix: row[2] ?? '', cells: row.length,
      header, section, line: i + 1,
    });
  });
  return rows;
}

describe('docs/errors.md against core/errors.ts', () => {
  const rows = codeRows();
  const documented = rows.map((r) => r.code);
  const codes = Object.keys(ERRORS);

  it('finds the tables (the parser is not vacuous)', () => {
    expect(codes.length).toBeGreaterThan(40);
    expect(rows.length).toBeGreaterThan(40);
  });

  it('names only codes that exist in ERRORS', () => {
    expect(documented.filter((c) => !(c in ERRORS))).toEqual([]);
  });

  it('has a row for every code in ERRORS', () => {
    expect(codes.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it('documents each code once', () => {
    expect(documented.filter((c, i) => documented.indexOf(c) !== i)).toEqual([]);
  });

  it('gives every row a meaning and a fix, in a | Code | Meaning | How to fix | table under an area heading', () => {
    for (const r of rows) {
      expect(r.header, `${r.code} (line ${r.line}) table header`).toEqual(['Code', 'Meaning', 'How to fix']);
      expect(r.cells, `${r.code} (line ${r.line}) must have exactly three cells`).toBe(3);
      expect(r.meaning, `${r.code} (line ${r.line}) meaning`).not.toBe('');
      expect(r.fix, `${r.code} (line ${r.line}) fix`).not.toBe('');
      expect(r.section, `${r.code} (line ${r.line}) must sit under a "## <area>" heading`).toBeTruthy();
      expect(r.section).not.toBe('Exit codes');
    }
  });

  it('anchors every row at the lowercase code, the link `caduceus doctor` prints (docs/errors.md#cad_err_…)', () => {
    for (const r of rows) expect(r.anchor, `${r.code} (line ${r.line})`).toBe(r.code.toLowerCase());
  });

  it('names every code CAD_ERR_<AREA>_<WHAT>, with a meaning and a fix in ERRORS too', () => {
    for (const code of codes) {
      expect(code).toMatch(CODE_SHAPE);
      expect(ERRORS[code]!.meaning.length, code).toBeGreaterThan(0);
      expect(ERRORS[code]!.fix.length, code).toBeGreaterThan(0);
    }
    for (const code of documented) expect(code).toMatch(CODE_SHAPE);
  });
});

describe('docs/errors.md exit codes', () => {
  it('lists exactly the exit codes the CLI uses, each with a meaning', () => {
    const section = DOC.split(/^## Exit codes$/m)[1];
    expect(section, 'docs/errors.md needs a "## Exit codes" section').toBeDefined();
    const table = section!.split(/^## /m)[0]!.split('\n').filter((l) => /^\|\s*\d+\s*\|/.test(l)).map(cells);
    expect(table.map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual(Object.values(EXIT).sort((a, b) => a - b));
    expect(table.map((r) => Number(r[0]))).toEqual(expect.arrayContaining([0, 1, 2, 70]));
    for (const r of table) expect(r[1], `exit code ${r[0]}`).toBeTruthy();
  });
});
