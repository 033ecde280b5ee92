/**
 * SKILL.md loading through the built CLI: a corpus of malformed files (no `---`, unclosed `---`, no
 * name, a bad name, an overlong description, an empty body, non-UTF-8 bytes, YAML anchors and aliases, a
 * 2 MB file) each gives a precise error (file, line, field, fix) while every other skill still loads; a
 * set of skills written in the public agentskills.io format (test/fixtures/skills) loads unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';

const PUBLIC = join(ROOT, 'test/fixtures/skills');

interface Problem { severity: string; file: string; line: number; field?: string; message: string; fix: string }

const CORPUS: { folder: string; content: string | Buffer; line: number; field?: string; message: RegExp }[] = [
  { folder: 'no-dashes', content: 'name: no-dashes\ndescription: x\n\nBody.\n', line: 1, message: /does not start with a frontmatter line/ },
  { folder: 'unclosed', content: '---\nname: unclosed\ndescription: x\n\nBody.\n', line: 1, message: /never closes it/ },
  { folder: 'no-name', content: '---\ndescription: has no name\n---\nBody.\n', line: 1, field: 'name', message: /no `name`/ },
  { folder: 'bad-name', content: '---\nname: Bad Name!\ndescription: x\n---\nBody.\n', line: 2, field: 'name', message: /not a valid skill name/ },
  { folder: 'long-description', content: `---\nname: long-description\ndescription: ${'word '.repeat(300)}\n---\nBody.\n`, line: 3, field: 'description', message: /over the 1024 limit/ },
  { folder: 'empty-body', content: '---\nname: empty-body\ndescription: x\n---\n\n\n', line: 5, message: /empty body/ },
  { folder: 'not-utf8', content: Buffer.concat([Buffer.from('---\nname: not-utf8\ndescription: caf'), Buffer.from([0xe9, 0xff]), Buffer.from('\n---\nBody.\n')]), line: 3, message: /not valid UTF-8/ },
  { folder: 'anchors', content: '---\nname: anchors\ndescription: &desc shared text\nmetadata:\n  summary: *desc\n---\nBody.\n', line: 3, message: /anchors/ },
  { folder: 'aliases', content: '---\nname: aliases\ndescription: x\nmetadata:\n  base: plain\n  copy: *base\n---\nBody.\n', line: 6, message: /aliases/ },
  { folder: 'two-megabytes', content: `---\nname: two-megabytes\ndescription: x\n---\n${'lorem ipsum '.repeat(180_000)}\n`, line: 0, message: /over the 262144 limit/ },
];

describe('SKILL.md corpus through `caduceus skills`', () => {
  let home: Home;
  let project: string;
  beforeAll(() => {
    home = makeHome();
    project = tempDir('cad-skills-corpus-');
    const skills = join(project, '.caduceus', 'skills');
    mkdirSync(skills, { recursive: true });
    cpSync(PUBLIC, skills, { recursive: true });
    for (const c of CORPUS) {
      mkdirSync(join(skills, c.folder));
      writeFileSync(join(skills, c.folder, 'SKILL.md'), c.content);
    }
  });
  afterAll(() => home.cleanup());

  it('reports each malformed file precisely and loads every other skill', () => {
    const r = home.run(['skills', 'doctor', '--json'], { cwd: project });
    expect(r.code).toBe(1);
    const out = r.json<{ problems: Problem[]; skills: number }>();
    for (const c of CORPUS) {
      const mine = out.problems.filter((p) => p.file.endsWith(`/${c.folder}/SKILL.md`) && p.severity === 'error');
      expect(mine, c.folder).toHaveLength(1);
      expect(mine[0]!.line, c.folder).toBe(c.line);
      if (c.field) expect(mine[0]!.field, c.folder).toBe(c.field);
      expect(mine[0]!.message, c.folder).toMatch(c.message);
      expect(mine[0]!.fix.length, c.folder).toBeGreaterThan(10);
    }
    expect(out.skills).toBe(readdirSync(PUBLIC).length);
  });

  it('the skills from the public format all load unchanged, with their fields', () => {
    const r = home.run(['skills', 'list', '--json'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const { skills } = r.json<{ skills: { name: string; description: string; status: string; source: string }[] }>();
    expect(skills.map((s) => s.name).sort()).toEqual(readdirSync(PUBLIC).sort());
    for (const s of skills) expect(s.source).toBe('project');
    const byName = Object.fromEntries(skills.map((s) => [s.name, s]));
    expect(byName['incident-postmortem']!.description).toBe('Drafts a blameless postmortem for a production incident from a timeline, chat logs and metrics. Use after an outage or a near miss, when the user asks for a postmortem, an incident review or a root-cause write-up.');
    expect(byName['csv-cleanup']!.description).toMatch(/^Cleans messy CSV exports: normalises headers/);
    expect(byName['brand-voice']!.description).toMatch(/house voice: plain words/);
    // release-notes-gh needs git on PATH (metadata.caduceus.requires.bins), which this machine has.
    expect(byName['release-notes-gh']!.status).toBe('ok');
    for (const name of readdirSync(PUBLIC)) {
      const show = home.run(['skills', 'show', name, '--json'], { cwd: project }).json<{ body: string; files: string[]; warnings: Problem[] }>();
      expect(show.warnings, name).toEqual([]);
      const text = readFileSync(join(PUBLIC, name, 'SKILL.md'), 'utf8');
      expect(text.endsWith(show.body), name).toBe(true);
    }
    const csv = home.run(['skills', 'show', 'csv-cleanup', '--json'], { cwd: project }).json<{ allowedTools: string[]; license: string; compatibility: string; files: string[] }>();
    expect(csv).toMatchObject({ allowedTools: ['Bash(python3:*)', 'Read', 'Write'], license: 'Apache-2.0', compatibility: 'Needs Python 3.9 or later for the bundled script.', files: ['scripts/clean.py'] });
    const brand = home.run(['skills', 'show', 'brand-voice', '--json'], { cwd: project }).json<{ files: string[] }>();
    expect(brand.files.sort()).toEqual(['examples.md', 'voice.md']);
  });

  it('the model sees the good skills through skills_list, and the error count', () => {
    const r = home.run(['tools', 'call', 'skills_list', '{}', '--json'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    const { result } = r.json<{ result: { skills: { name: string }[]; problems: number } }>();
    expect(result.skills).toHaveLength(readdirSync(PUBLIC).length);
    expect(result.problems).toBe(CORPUS.length);
    const view = home.run(['tools', 'call', 'skill_view', '{"name":"changelog-writer","file":"references/style.md"}', '--json'], { cwd: project }).json<{ result: { content: string } }>();
    expect(view.result.content).toContain('Start each entry with a verb');
  });
});
