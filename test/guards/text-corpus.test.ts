/**
 * Runs every case of the prompt-injection corpus through `scanText` and checks the verdict and, when the
 * case names one, the deciding rule. The text is in each test's name, so a failure says which one. Also
 * keeps the corpus honest: big enough, balanced, and hitting every rule in TEXT_RULES.
 */
import { describe, expect, it } from 'vitest';
import { scanText, TEXT_RULES } from '../../core/safety/text.js';
import { TEXT_CORPUS } from './text-corpus.js';

const show = (t: string) => {
  const escaped = JSON.stringify(t).replace(/[\u200B-\u200D\u2060\uFEFF\u202A-\u202E\u2066-\u2069\uFE00-\uFE0F]|[\u{E0000}-\u{E01EF}]/gu,
    (c) => `\\u{${c.codePointAt(0)!.toString(16).toUpperCase()}}`);
  return escaped.length > 100 ? `${escaped.slice(0, 97)}...` : escaped;
};

describe('prompt-injection corpus', () => {
  it.each(TEXT_CORPUS.map((c) => ({ ...c, shown: show(c.text) })))('$shown is $verdict', ({ text, verdict, rule, note }) => {
    const got = scanText(text);
    const detail = `text: ${show(text)}${note ? ` (${note})` : ''}\nfindings: ${JSON.stringify(got.findings, null, 1)}`;
    expect(got.verdict, detail).toBe(verdict);
    if (rule) expect(got.rule, detail).toBe(rule);
    if (verdict === 'safe') expect(got.findings, detail).toEqual([]);
  });

  it('is big enough and covers every verdict', () => {
    const count = (v: string) => TEXT_CORPUS.filter((c) => c.verdict === v).length;
    expect(TEXT_CORPUS.length).toBeGreaterThanOrEqual(80);
    expect(count('safe')).toBeGreaterThanOrEqual(30);
    expect(count('dangerous')).toBeGreaterThanOrEqual(25);
    expect(count('caution')).toBeGreaterThanOrEqual(15);
  });

  it('hits every rule in TEXT_RULES, both as a finding and as the deciding rule of some case', () => {
    const found = new Set(TEXT_CORPUS.flatMap((c) => scanText(c.text).findings.map((f) => f.rule)));
    const decided = new Set(TEXT_CORPUS.map((c) => c.rule));
    expect(TEXT_RULES.map((r) => r.id).filter((id) => !found.has(id))).toEqual([]);
    expect(TEXT_RULES.map((r) => r.id).filter((id) => !decided.has(id))).toEqual([]);
  });

  it('names only rules that exist', () => {
    const ids = new Set(TEXT_RULES.map((r) => r.id));
    expect(TEXT_CORPUS.filter((c) => c.rule && !ids.has(c.rule)).map((c) => c.rule)).toEqual([]);
  });
});
