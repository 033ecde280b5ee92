/**
 * Unit tests for the skills plugin's pure parts: the strict YAML reader (what it reads, and that it
 * refuses anchors, aliases, tags, merge keys, duplicate keys and tabs with the line), SKILL.md splitting
 * and field checks (each failure names the line and field), and the plugin-side SHA-256, checked against
 * node:crypto. The malformed-file corpus is also driven through the real CLI in
 * test/e2e/skills-corpus.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { parseYaml, YamlError } from '../src/yaml.js';
import { parseSkill } from '../src/skill.js';
import { contentHash, sha256Hex } from '../src/sha256.js';

const yamlError = (text: string): YamlError => {
  try {
    parseYaml(text, 2);
  } catch (e) {
    if (e instanceof YamlError) return e;
    throw e;
  }
  throw new Error('expected a YamlError');
};

describe('strict YAML reader', () => {
  it('reads the frontmatter subset', () => {
    const v = parseYaml([
      'name: pdf-forms',
      'description: "Fill in forms: field by field"   # comment',
      "license: 'Apache-2.0'",
      'version: 1.10',
      'user-invocable: false',
      'empty:',
      'allowed-tools: [Read, "Write", Bash(git:*)]',
      'metadata:',
      '  author: ada',
      '  caduceus:',
      '    requires:',
      '      bins:',
      '        - git',
      '        - jq',
      '      env: [GITHUB_TOKEN]',
      'list:',
      '- a',
      '- b: c',
      '  d: e',
      'flow: { a: 1, "b c": [x, y] }',
    ].join('\n'));
    expect(v).toEqual({
      name: 'pdf-forms', description: 'Fill in forms: field by field', license: 'Apache-2.0', version: '1.10', 'user-invocable': false, empty: null,
      'allowed-tools': ['Read', 'Write', 'Bash(git:*)'],
      metadata: { author: 'ada', caduceus: { requires: { bins: ['git', 'jq'], env: ['GITHUB_TOKEN'] } } },
      list: ['a', { b: 'c', d: 'e' }], flow: { a: '1', 'b c': ['x', 'y'] },
    });
  });

  it('reads block and multi-line scalars', () => {
    expect(parseYaml('a: |\n  one\n  two\n\nb: >-\n  folded\n  text\n\n  para\nc: plain that\n  goes on\nd: "quoted that\n  goes on"\n')).toEqual({
      a: 'one\ntwo\n', b: 'folded text\npara', c: 'plain that goes on', d: 'quoted that goes on',
    });
    expect(parseYaml('e: "tab\\tand \\u00e9"\nf: \'it\'\'s\'')).toEqual({ e: 'tab\tand é', f: "it's" });
  });

  it('lets a plain value hold ": " on its own line, as descriptions do', () => {
    expect(parseYaml('description: Use when: the user asks for X')).toEqual({ description: 'Use when: the user asks for X' });
  });

  it.each([
    ['base: &b hello\nother: *b', 2, /anchors/],
    ['a: *ref', 2, /aliases/],
    ['&a key: v', 2, /anchors/],
    ['a:\n  - &x item', 3, /anchors/],
    ['a: [*x]', 2, /aliases/],
    ['a: !!str 5', 2, /tags/],
    ['<<: {a: 1}', 2, /merge keys/],
    ['? complex\n: value', 2, /complex keys/],
    ['a: 1\na: 2', 3, /duplicate key 'a' \(first at line 2\)/],
    ['a:\n\tb: 1', 3, /tab/],
    ['a: [1, 2', 2, /must close on the same line/],
    ['a: "never closed', 2, /never closed/],
    ['just text', 2, /expected `key: value`/],
    ['a: 1\n  b: 2', 3, /looks like a key/],
    ['- a\n- b', 2, /is a list/],
    ['a: "x" trailing', 2, /after the closing quote/],
    ['a: "bad \\q escape"', 2, /unknown escape/],
    ['%YAML 1.2', 2, /directives/],
  ])('refuses %j at line %i', (text, line, message) => {
    const e = yamlError(text);
    expect(e.line).toBe(line);
    expect(e.message).toMatch(message);
    expect(e.fix.length).toBeGreaterThan(5);
  });

  it('continues a plain scalar onto more-indented lines that are not keys', () => {
    expect(parseYaml('a: b\n c')).toEqual({ a: 'b c' });
  });
});

describe('SKILL.md', () => {
  const file = '/x/s/SKILL.md';
  const ok = (fm: string, body = '\nDo it.\n') => parseSkill(`---\n${fm}\n---\n${body}`, file);
  const problem = (text: string) => {
    const r = parseSkill(text, file);
    if (!('problem' in r)) throw new Error('expected a problem');
    return r.problem;
  };

  it('reads the fields and the body', () => {
    const r = ok('name: s\ndescription: Does s.\nallowed-tools: Read Grep\nversion: 2.0\nargument-hint: <file>\nmetadata:\n  caduceus:\n    requires:\n      bins: [git]\n      platforms: [linux]');
    expect('skill' in r && r.skill).toMatchObject({ name: 's', description: 'Does s.', allowedTools: ['Read', 'Grep'], version: '2.0', argumentHint: '<file>', requires: { bins: ['git'], env: [], tools: [], platforms: ['linux'] }, bodyLine: 13 });
  });

  it.each([
    ['no frontmatter', '# Title\ntext', 1, undefined, /does not start with a frontmatter line/],
    ['unclosed', '---\nname: a\ndescription: b\n', 1, undefined, /never closes it/],
    ['no name', '---\ndescription: b\n---\nx', 1, 'name', /no `name`/],
    ['bad name', '---\nname: Bad_Name\ndescription: b\n---\nx', 2, 'name', /not a valid skill name/],
    ['overlong name', `---\nname: ${'a'.repeat(65)}\ndescription: b\n---\nx`, 2, 'name', /not a valid skill name/],
    ['no description', '---\nname: a\n---\nx', 1, 'description', /no `description`/],
    ['overlong description', `---\nname: a\ndescription: ${'d'.repeat(1025)}\n---\nx`, 3, 'description', /1025 characters, over the 1024 limit/],
    ['empty body', '---\nname: a\ndescription: b\n---\n\n   \n', 5, undefined, /empty body/],
    ['not UTF-8', '---\nname: a\ndescription: b \uFFFD\n---\nx', 3, undefined, /not valid UTF-8/],
    ['anchors', '---\nname: a\ndescription: &d b\n---\nx', 3, undefined, /anchors/],
    ['2 MB', `---\nname: a\ndescription: b\n---\n${'x'.repeat(2 * 1024 * 1024)}`, 0, undefined, /over the 262144 limit/],
    ['bad requires', '---\nname: a\ndescription: b\nmetadata:\n  caduceus:\n    requires:\n      bins: [rm -rf]\n---\nx', 4, 'metadata.caduceus', /requires.bins` must be a list/],
    ['name not text', '---\nname: [a]\ndescription: b\n---\nx', 2, 'name', /must be text/],
    ['flag not boolean', '---\nname: a\ndescription: b\nuser-invocable: maybe\n---\nx', 4, 'user-invocable', /true or false/],
  ])('%s', (_label, text, line, field, message) => {
    const p = problem(text);
    expect(p).toMatchObject({ severity: 'error', file, line });
    if (field) expect(p.field).toBe(field);
    expect(p.message).toMatch(message);
    expect(p.fix).toBeTruthy();
  });

  it('warns about unknown fields without failing', () => {
    const r = ok('name: a\ndescription: b\ncolor: blue');
    expect('skill' in r && r.skill.warnings).toEqual([expect.objectContaining({ severity: 'warning', line: 4, field: 'color' })]);
  });
});

describe('plugin-side SHA-256', () => {
  it.each(['', 'abc', 'é ✓ 𝄞 — mixed', 'x'.repeat(1000), 'line\nbreaks\r\n'])('matches node:crypto for %j', (text) => {
    expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
  });

  it('hashes a file set independently of order', () => {
    const a = [{ path: 'b', sha256: '2' }, { path: 'a', sha256: '1' }];
    expect(contentHash(a)).toBe(contentHash([...a].reverse()));
    expect(contentHash(a)).toMatch(/^sha256-[0-9a-f]{64}$/);
  });
});
