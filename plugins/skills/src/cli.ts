/**
 * `caduceus skills ...`, served by this plugin through defineCommand: list, show, install, remove,
 * watch (prints each change as it happens, until Ctrl-C) and doctor. Every subcommand takes `--json`.
 */
import { defineCommand, type CommandIO, type PluginContext } from 'caduceus/sdk';
import type { Catalog, Change, Skill } from './catalog.js';
import type { Gate } from './gate.js';
import { checkInstalls, installSkill, removeSkill } from './install.js';
import { listFiles } from './manage.js';
import { usable, type PromptIndex } from './prompt.js';
import type { Problem } from './skill.js';

export interface CliServices {
  catalog: Catalog;
  gate: Gate;
  prompt: PromptIndex;
  slashWarnings: Problem[];
}

const USAGE = 'usage: caduceus skills list|show <name>|install <folder|.tgz> [--force] [--project]|remove <name> [--project]|watch|doctor [--json]';

export function skillsCommand(s: () => CliServices) {
  return defineCommand({
    name: 'skills',
    description: 'List, show, install, remove and watch SKILL.md skills; check them with doctor',
    timeoutMs: 0,
    subcommands: [
      { name: 'list', description: 'every skill with its source and status (unavailable ones too)', usage: 'skills list [--json]' },
      { name: 'show', description: "a skill's metadata, files and instructions", usage: 'skills show <name> [--json]' },
      { name: 'install', description: 'install a skill folder or .tgz into your skills (staged, scanned and checked first)', usage: 'skills install <folder|.tgz> [--force] [--project] [--json]' },
      { name: 'remove', description: 'delete one of your skills', usage: 'skills remove <name> [--project] [--json]' },
      { name: 'watch', description: 'print each skill change as it happens, until Ctrl-C', usage: 'skills watch [--json]' },
      { name: 'doctor', description: 'every problem: broken files, shadowed names, unmet requirements, modified installs', usage: 'skills doctor [--json]' },
    ],
    run: async (argv, ctx, io) => {
      const [sub, ...rest] = argv;
      const flags = new Set(rest.filter((a) => a.startsWith('--')));
      const args = rest.filter((a) => !a.startsWith('--'));
      const svc = s();
      switch (sub) {
        case 'list': return list(svc, io);
        case 'show': return args[0] ? show(ctx, svc, io, args[0]) : usage(io);
        case 'install': {
          if (!args[0]) return usage(io);
          const r = await installSkill(ctx, svc.catalog, svc.gate, args[0], { force: flags.has('--force'), project: flags.has('--project') });
          if (io.json) io.print(JSON.stringify({ ok: true, ...r }));
          else {
            io.print(`✓ ${r.replaced ? 'replaced' : 'installed'} skill ${r.name} (${r.files} files, ${r.contentHash})`);
            io.print(`  ${r.path}`);
            for (const n of r.notes) io.print(`  note: ${n}`);
          }
          return 0;
        }
        case 'remove': {
          if (!args[0]) return usage(io);
          const r = await removeSkill(ctx, svc.catalog, args[0], { project: flags.has('--project') });
          if (io.json) io.print(JSON.stringify({ ok: true, ...r }));
          else io.print(`✓ removed skill ${r.name} (${r.path})`);
          return 0;
        }
        case 'watch': return watch(svc, io);
        case 'doctor': return doctor(ctx, svc, io);
        default: return usage(io);
      }
    },
  });
}

function usage(io: CommandIO): number {
  io.error(USAGE);
  return 2;
}

function status(skill: Skill, missing: string[]): string {
  if (skill.stale) return 'broken edit (last good live)';
  if (missing.length) return `unavailable (needs ${missing.join(', ')})`;
  return 'ok';
}

async function list(svc: CliServices, io: CommandIO): Promise<number> {
  const rows = await usable(svc.catalog, svc.gate);
  const problems = svc.catalog.problems();
  if (io.json) {
    io.print(JSON.stringify({
      skills: rows.map(({ skill, missing }) => ({ name: skill.id, description: skill.description, source: skill.root.kind, root: skill.root.label, path: skill.dir, status: status(skill, missing), available: missing.length === 0, missing, userInvocable: skill.userInvocable, stale: skill.stale ?? null })),
      problems,
    }));
    return 0;
  }
  if (rows.length === 0) io.print('No skills. Add a folder with a SKILL.md to .caduceus/skills (this project) or $CADUCEUS_HOME/skills (you), or run `caduceus skills install <folder>`.');
  else {
    const table = rows.map(({ skill, missing }) => [skill.id, skill.root.kind === 'plugin' ? `plugin ${skill.root.plugin}` : skill.root.kind, status(skill, missing), oneLine(skill.description, 70)]);
    io.print(columns([['NAME', 'SOURCE', 'STATUS', 'DESCRIPTION'], ...table]));
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (errors || problems.length) io.error(`${errors} error(s), ${problems.length - errors} warning(s): run \`caduceus skills doctor\` for details.`);
  return 0;
}

async function show(ctx: PluginContext, svc: CliServices, io: CommandIO, name: string): Promise<number> {
  await svc.catalog.ready();
  const skill = svc.catalog.get(name);
  if (!skill) {
    io.error(`No skill is named '${name}'. Run \`caduceus skills list\`.`);
    return 1;
  }
  const [missing] = await svc.gate.missing([skill.requires]);
  const { files } = await listFiles(ctx, skill.fsDir);
  const scan = await svc.gate.scan(skill.body);
  const out = {
    name: skill.id, description: skill.description, source: skill.root.label, path: skill.dir, file: skill.file,
    license: skill.license ?? null, version: skill.version ?? null, compatibility: skill.compatibility ?? null, allowedTools: skill.allowedTools,
    userInvocable: skill.userInvocable, modelInvocable: skill.modelInvocable, requires: skill.requires, missing: missing ?? [],
    files: files.filter((f) => f !== 'SKILL.md'), scan: { verdict: scan.verdict, rule: scan.rule ?? null }, stale: skill.stale ?? null,
    warnings: skill.warnings, body: skill.body.replace(/^\n+/, ''),
  };
  if (io.json) {
    io.print(JSON.stringify(out));
    return 0;
  }
  io.print(`${out.name}  (${out.source})`);
  io.print(out.description);
  io.print(`file: ${out.file}`);
  for (const [k, v] of [['license', out.license], ['version', out.version], ['compatibility', out.compatibility]] as const) if (v) io.print(`${k}: ${v}`);
  if (out.allowedTools.length) io.print(`allowed-tools: ${out.allowedTools.join(' ')}`);
  if (!out.userInvocable) io.print('not a slash command (user-invocable: false)');
  if (!out.modelInvocable) io.print('left out of the prompt index (disable-model-invocation: true)');
  if (out.missing.length) io.print(`unavailable here: needs ${out.missing.join(', ')}`);
  if (out.scan.verdict !== 'safe') io.print(`scanner: ${out.scan.verdict} (${out.scan.rule})`);
  if (skill.stale) io.print(`the newest edit does not load (${skill.stale.message}); showing the last good version`);
  io.print(`files: ${out.files.length ? out.files.join(', ') : '(none besides SKILL.md)'}`);
  io.print('');
  io.print(out.body);
  return 0;
}

/** Runs until Ctrl-C (the command has no wall-clock limit); each change is printed as it is seen. */
async function watch(svc: CliServices, io: CommandIO): Promise<number> {
  await svc.catalog.watch();
  const roots = svc.catalog.roots;
  const say = (event: Record<string, unknown>, text: string) => io.print(io.json ? JSON.stringify(event) : text);
  say({ type: 'ready', skills: svc.catalog.skills().length, roots: roots.map((r) => ({ source: r.label, path: r.abs, exists: r.exists, mode: r.mode })) },
    `watching ${roots.length} skill folder(s), ${svc.catalog.skills().length} skill(s); Ctrl-C stops\n${roots.map((r) => `  ${r.label}: ${r.abs}${r.exists ? '' : ' (not there yet)'}${r.mode === 'polling' ? ' (polling)' : ''}`).join('\n')}`);
  let warnedPolling = roots.some((r) => r.mode === 'polling');
  svc.catalog.onChange((c: Change) => {
    const at = (id: string) => svc.catalog.get(id)?.file ?? '';
    for (const id of c.added) say({ type: 'added', name: id, file: at(id) }, `+ added ${id}  ${at(id)}`);
    for (const id of c.changed) say({ type: 'changed', name: id, file: at(id) }, `~ changed ${id}  ${at(id)}`);
    for (const id of c.removed) say({ type: 'removed', name: id }, `- removed ${id}`);
    for (const p of c.problems) {
      const lastGood = p.severity === 'error' && svc.catalog.skills().some((x) => x.stale?.file === p.file && x.stale.message === p.message);
      say({ type: 'problem', ...p, lastGoodLive: lastGood }, `! ${p.severity} ${where(p)}: ${p.message}${lastGood ? ' (the last good version stays live)' : ''}\n    fix: ${p.fix}`);
    }
    if (!warnedPolling && svc.catalog.roots.some((r) => r.mode === 'polling')) {
      warnedPolling = true;
      say({ type: 'warning', message: 'native file watches ran out; polling instead' }, 'warning: the system ran out of native file watches; skill folders are polled instead (changes show up within a second)');
    }
  });
  return new Promise<number>(() => undefined);
}

async function doctor(ctx: PluginContext, svc: CliServices, io: CommandIO): Promise<number> {
  const all = await usable(svc.catalog, svc.gate);
  await svc.prompt.current();
  await svc.prompt.commands([], svc.slashWarnings);
  const problems = [...svc.catalog.problems(), ...svc.prompt.refused, ...svc.slashWarnings];
  for (const { skill } of all) {
    const scan = await svc.gate.scan(skill.body);
    if (scan.verdict === 'dangerous') problems.push({ severity: 'error', file: skill.file, line: skill.bodyLine, message: `the injection scanner refuses its instructions (${scan.rule}); skill_view and its slash command will not hand them to a model`, fix: 'Rewrite the part the scanner names, or delete the skill.' });
  }
  const unavailable = all.filter((u) => u.missing.length);
  const installs = await checkInstalls(ctx, svc.catalog);
  const errors = problems.filter((p) => p.severity === 'error').length + installs.filter((i) => !i.ok).length;
  if (io.json) {
    io.print(JSON.stringify({
      ok: errors === 0,
      roots: svc.catalog.roots.map((r) => ({ source: r.label, path: r.abs, exists: r.exists, skills: svc.catalog.skills().filter((s) => s.root === r).length })),
      skills: all.length, problems, unavailable: unavailable.map((u) => ({ name: u.skill.id, missing: u.missing })), installs,
    }));
    return errors ? 1 : 0;
  }
  io.print('skill folders (highest precedence first):');
  for (const r of svc.catalog.roots) io.print(`  ${r.label}: ${r.abs}  ${r.exists ? `${svc.catalog.skills().filter((s) => s.root === r).length} skill(s)` : '(does not exist)'}`);
  io.print(`${all.length} skill(s) loaded`);
  if (problems.length) {
    io.print('problems:');
    for (const p of problems) io.print(`  ${p.severity === 'error' ? 'ERROR' : 'warn '} ${where(p)}: ${p.message}\n        fix: ${p.fix}`);
  }
  if (unavailable.length) {
    io.print('unavailable here (left out of the prompt and slash commands):');
    for (const u of unavailable) io.print(`  ${u.skill.id}: needs ${u.missing.join(', ')}`);
  }
  if (installs.length) {
    io.print('installed skills:');
    for (const i of installs) io.print(`  ${i.ok ? 'ok   ' : 'ERROR'} ${i.name} (${i.scope}): ${i.detail}`);
  }
  io.print(errors ? `${errors} error(s) to fix.` : 'No errors.');
  return errors ? 1 : 0;
}

function where(p: Problem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}${p.field ? ` [${p.field}]` : ''}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('')).join('\n');
}
