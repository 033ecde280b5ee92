// Section 8 of the benchmark: skills. Three numbers from the issue, on generated skills in a project's
// .caduceus/skills, with the bundled skills plugin in a real kernel:
//   - 1,000 skills indexed at start: the first skills_list call of a fresh kernel (plugin start, the scan
//     of every SKILL.md, registering the watches), next to the same call with no skills;
//   - an edit to SKILL.md visible to skills_list: write the file, then call skills_list until the new
//     description is there (watch event, debounce, re-read, index update), one edit at a time;
//   - watching 1,000 skills: the extra RSS of the watches, measured in a child process
//     (bench/skills-memory-child.mjs) between "indexed" and "indexed and watched".
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_DIR, ROOT, settleGc, summarize, tempDir } from './lib.mjs';

export const SKILLS_GOALS = { indexMs: 500, editMs: 300, watchRssBytes: 50 * 1024 * 1024 };
export const SKILL_COUNT = 1000;

const BODY = [
  '# Steps', '',
  '1. Read the request and list what it needs; ask when something is missing.',
  '2. Gather the inputs the task names (files, tickets, logs) and note where each came from.',
  '3. Do the work in small steps, checking each one before the next.',
  '4. Report what you did, what you did not do and why, and what the user should check.', '',
  '## Rules', '',
  '- Never invent data that is not in the inputs.',
  '- Prefer the project\'s own tools and conventions over general advice.',
  '- Keep the output short; link to details instead of pasting them.', '',
].join('\n');

/** Writes `n` skill folders (every tenth with a references/ file) under `dir`; returns their names. */
export function writeSkills(dir, n) {
  const names = [];
  for (let i = 1; i <= n; i++) {
    const name = `skill-${String(i).padStart(4, '0')}`;
    names.push(name);
    mkdirSync(join(dir, name), { recursive: true });
    writeFileSync(join(dir, name, 'SKILL.md'), skillText(name, `Handles task family ${i}: checks the inputs, does the work step by step and reports what changed. Use for requests about area ${i % 37}.`));
    if (i % 10 === 0) {
      mkdirSync(join(dir, name, 'references'));
      writeFileSync(join(dir, name, 'references', 'notes.md'), `# Notes for ${name}\n\nBackground the steps refer to.\n`);
    }
  }
  return names;
}

export function skillText(name, description) {
  return `---\nname: ${name}\ndescription: ${description}\nlicense: MIT\nmetadata:\n  owner: bench\n---\n\n${BODY}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function listCall(k, args = {}) {
  const r = await k.callTool('skills_list', args, { caller: 'operator' });
  if (!r.ok) throw new Error(`skills_list failed: ${r.error.code} ${r.error.message}`);
  return r.result;
}

/** A fresh home and project with `n` skills, and a kernel on them. */
function setup(api, n) {
  const home = tempDir('cad-bench-skills-home-');
  const project = tempDir('cad-bench-skills-proj-');
  const dir = join(project, '.caduceus', 'skills');
  mkdirSync(dir, { recursive: true });
  const names = writeSkills(dir, n);
  const k = new api.Kernel({ home, workspace: project, bundledDir: BUNDLED_DIR });
  return { home, project, dir, names, k };
}

export async function benchSkills(api, { rounds = 3, edits = 30 } = {}, log = () => undefined) {
  // 1. Cold first call, with and without 1,000 skills (fresh kernel each round, interleaved).
  const cold = { empty: [], full: [] };
  let last;
  for (let r = 0; r < rounds; r++) {
    for (const n of [0, SKILL_COUNT]) {
      const s = setup(api, n);
      settleGc();
      const t0 = performance.now();
      const out = await listCall(s.k);
      const ms = performance.now() - t0;
      if (out.skills.length !== n) throw new Error(`expected ${n} skills, got ${out.skills.length}`);
      (n === 0 ? cold.empty : cold.full).push(ms);
      if (n === SKILL_COUNT && r === rounds - 1) last = s;
      else await s.k.close();
    }
  }
  log(`skills: cold skills_list with ${SKILL_COUNT} skills p50 ${summarize(cold.full).p50.toFixed(0)} ms (no skills: ${summarize(cold.empty).p50.toFixed(0)} ms)`);

  // 2. Edit → visible, in the last kernel (its watches are running; give chokidar time to be ready).
  await sleep(2000);
  const target = last.names[Math.floor(last.names.length / 2)];
  const latencies = [];
  for (let i = 1; i <= edits; i++) {
    const description = `Edited ${i} times: the newest description of ${target}.`;
    writeFileSync(join(last.dir, target, 'SKILL.md'), skillText(target, description));
    const t0 = performance.now();
    for (;;) {
      const { skills } = await listCall(last.k, { query: target });
      if (skills[0]?.description === description) break;
      if (performance.now() - t0 > 10_000) throw new Error(`edit ${i} of ${target} not visible after 10 s`);
      await new Promise((r) => setImmediate(r));
    }
    latencies.push(performance.now() - t0);
    await sleep(150);
  }
  await last.k.close();
  const edit = summarize(latencies);
  log(`skills: edit visible p50 ${edit.p50.toFixed(0)} ms, max ${edit.max.toFixed(0)} ms`);

  // 3. RSS of watching 1,000 skills, in a child process.
  const mem = setup(api, SKILL_COUNT);
  await mem.k.close();
  const child = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', join(ROOT, 'bench/skills-memory-child.mjs'), mem.home, mem.project], { encoding: 'utf8', timeout: 180_000 });
  if (child.status !== 0) throw new Error(`skills-memory-child failed: ${child.stderr}`);
  const memory = JSON.parse(child.stdout.trim().split('\n').at(-1));
  log(`skills: watching ${SKILL_COUNT} skills adds ${(memory.watchRss / 1048576).toFixed(1)} MB RSS`);

  return { count: SKILL_COUNT, rounds, cold: { empty: summarize(cold.empty), full: summarize(cold.full) }, edits, edit, memory };
}

const fmtMs = (v) => `${v.toFixed(1)} ms`;
const fmtMB = (b) => `${(b / (1024 * 1024)).toFixed(2)} MB`;

export function skillsRows(s) {
  return [
    { id: '8', what: `${fmtInt(s.count)} skills indexed at start: first skills_list of a fresh kernel — p50 of ${s.rounds}`, value: fmtMs(s.cold.full.p50), goal: `≤ ${SKILLS_GOALS.indexMs} ms`, pass: s.cold.full.p50 <= SKILLS_GOALS.indexMs },
    { id: '8', what: `Edit to SKILL.md visible to skills_list (${s.edits} edits, ${fmtInt(s.count)} skills watched) — max`, value: `${fmtMs(s.edit.max)} (p50 ${fmtMs(s.edit.p50)})`, goal: `≤ ${SKILLS_GOALS.editMs} ms`, pass: s.edit.max <= SKILLS_GOALS.editMs },
    { id: '8', what: `Extra RSS of watching ${fmtInt(s.count)} skills`, value: fmtMB(s.memory.watchRss), goal: `≤ ${fmtMB(SKILLS_GOALS.watchRssBytes)}`, pass: s.memory.watchRss <= SKILLS_GOALS.watchRssBytes },
  ];
}

export function skillsMarkdown(s) {
  const row = (label, v) => `| ${label} | ${fmtMs(v.p50)} | ${fmtMs(v.p90)} | ${fmtMs(v.max)} | ${v.n} |`;
  return [
    '## 8. Skills', '',
    `Generated skills (each a SKILL.md of about ${fmtInt(skillText('skill-0000', 'x'.repeat(150)).length)} characters with frontmatter and a body, every tenth with a references/ file) in a project's \`.caduceus/skills\`, the bundled skills plugin in a real kernel (\`bench/skills.mjs\`).`, '',
    `**Indexing at start.** The first \`skills_list\` call of a fresh kernel: the plugin's isolate starts, reads and parses every SKILL.md through the host's fs syscalls, and registers its watches (chokidar itself starts on the host right after the call, so its set-up is not in this number; its memory is below); ${s.rounds} rounds, alternating with the same call on an empty folder, which is the plugin start alone.`, '',
    '| First skills_list call | p50 | p90 | max | n |', '| --- | ---: | ---: | ---: | ---: |',
    row('no skills', s.cold.empty), row(`${fmtInt(s.count)} skills`, s.cold.full), '',
    `**Edit → visible.** With ${fmtInt(s.count)} skills watched, one SKILL.md is rewritten with a new description, then \`skills_list\` is called until it shows it: chokidar's event, the 50 ms debounce, re-reading that one folder and updating the index. ${s.edits} edits, 150 ms apart.`, '',
    '| Edit visible after | p50 | p90 | max | n |', '| --- | ---: | ---: | ---: | ---: |',
    row('write → skills_list shows it', s.edit), '',
    `**Memory of the watches.** In a child process (\`bench/skills-memory-child.mjs\`): RSS with the ${fmtInt(s.count)} skills indexed (\`caduceus skills list\` run through the kernel API, which does not watch), then with \`skills watch\` running (chokidar watching every skill folder, ready). Before ${fmtMB(s.memory.before.rss)}, after ${fmtMB(s.memory.after.rss)}: **${fmtMB(s.memory.watchRss)}** for the watches (host heap ${fmtMB(s.memory.after.heapUsed - s.memory.before.heapUsed)} of it).`, '',
  ];
}

function fmtInt(v) {
  return Math.round(v).toLocaleString('en-US');
}
