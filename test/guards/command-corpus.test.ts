/**
 * Runs every case of the command-safety corpus through `checkCommand` and checks the verdict and, when
 * the case names one, the deciding rule. The command is in each test's name, so a failure says which
 * one. Also keeps the corpus honest: big enough, balanced, and hitting every rule in COMMAND_RULES.
 */
import { describe, expect, it } from 'vitest';
import { checkCommand, COMMAND_RULES } from '../../core/safety/command.js';
import { COMMAND_CORPUS } from './command-corpus.js';

const show = (c: string) => JSON.stringify(c.length > 120 ? `${c.slice(0, 117)}...` : c);

describe('command-safety corpus', () => {
  it.each(COMMAND_CORPUS.map((c) => ({ ...c, shown: show(c.command) })))('$shown is $verdict', ({ command, verdict, rule }) => {
    const got = checkCommand(command);
    const detail = `command: ${JSON.stringify(command)}\nnormalized: ${got.normalized}\nmatches: ${JSON.stringify(got.matches)}`;
    expect(got.verdict, detail).toBe(verdict);
    if (rule) expect(got.rule, detail).toBe(rule);
    if (verdict === 'safe') expect(got.rule, detail).toBeUndefined();
  });

  it('is big enough and covers both directions', () => {
    const count = (v: string) => COMMAND_CORPUS.filter((c) => c.verdict === v).length;
    expect(COMMAND_CORPUS.length).toBeGreaterThanOrEqual(170);
    expect(count('safe')).toBeGreaterThanOrEqual(60);
    expect(count('dangerous')).toBeGreaterThanOrEqual(50);
    expect(count('hardline')).toBeGreaterThanOrEqual(40);
  });

  it('hits every rule in COMMAND_RULES at least once', () => {
    const hit = new Set(COMMAND_CORPUS.flatMap((c) => checkCommand(c.command).matches.map((m) => m.rule)));
    const missing = COMMAND_RULES.map((r) => r.id).filter((id) => !hit.has(id));
    expect(missing).toEqual([]);
  });

  it('names only rules that exist', () => {
    const ids = new Set(COMMAND_RULES.map((r) => r.id));
    expect(COMMAND_CORPUS.filter((c) => c.rule && !ids.has(c.rule)).map((c) => c.rule)).toEqual([]);
  });
});
