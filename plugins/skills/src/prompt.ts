/**
 * How skills reach a model without a tool call: the prompt index (a `buildPrompt` section listing names
 * and descriptions) and slash commands in `caduceus chat` (`/<skill> args` sends the skill's body and the
 * arguments as the user's message).
 *
 * The index is a stable section, frozen per session the first time it is built, so the prompt prefix
 * stays cacheable turn after turn; changes made later appear on the next turn in a small non-stable
 * section after it ("added / changed / removed since this session started").
 */
import type { PluginContext, PromptInfo, SlashCommandCall, SlashCommandInfo, SlashCommandResult } from 'caduceus/sdk';
import type { Catalog, Skill } from './catalog.js';
import type { Gate } from './gate.js';
import type { Problem } from './skill.js';

/** Commands `caduceus chat` answers itself; a skill named like one is not offered as a slash command. */
export const BUILTIN_CHAT_COMMANDS = ['help', 'tools', 'model', 'new', 'session', 'exit'];
const COMMAND_NAME = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
const INDEX_DESCRIPTION_CHARS = 240;
const MAX_SESSIONS = 64;

export interface Usable {
  skill: Skill;
  missing: string[];
}

/** Live skills with what each lacks on this host. */
export async function usable(catalog: Catalog, gate: Gate): Promise<Usable[]> {
  await catalog.ready();
  const skills = catalog.skills();
  const missing = await gate.missing(skills.map((s) => s.requires));
  return skills.map((skill, i) => ({ skill, missing: missing[i] ?? [] }));
}

interface Frozen {
  text: string;
  /** id → description as frozen. */
  entries: Map<string, string>;
  texts: Map<string, string>;
}

export class PromptIndex {
  private readonly sessions = new Map<string, Frozen>();
  /** Skill descriptions the scanner found dangerous: kept out of the index (reported by doctor). */
  readonly refused: Problem[] = [];

  constructor(private readonly ctx: PluginContext, private readonly catalog: Catalog, private readonly gate: Gate, private readonly maxChars: number) {}

  async build(p: PromptInfo): Promise<PromptInfo> {
    const now = await this.current();
    let frozen = this.sessions.get(p.sessionId);
    if (!frozen) {
      frozen = now;
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
      this.sessions.set(p.sessionId, frozen);
    }
    const sections = p.sections.filter((s) => s.id !== 'skills' && s.id !== 'skills-changes');
    if (frozen.text) sections.push({ id: 'skills', title: 'Skills', text: frozen.text, stable: true });
    const delta = describeDelta(frozen, now);
    if (delta) sections.push({ id: 'skills-changes', title: 'Skills changed during this session', text: delta, stable: false });
    return { ...p, sections };
  }

  end(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** The index as it would be frozen now. */
  async current(): Promise<Frozen> {
    const list = (await usable(this.catalog, this.gate)).filter((u) => u.missing.length === 0 && u.skill.modelInvocable);
    const entries = new Map<string, string>();
    const texts = new Map<string, string>();
    const lines: string[] = [];
    let used = HEADER.length;
    let left = 0;
    this.refused.length = 0;
    for (const { skill } of list) {
      const desc = oneLine(skill.description, INDEX_DESCRIPTION_CHARS);
      const scan = await this.gate.scan(skill.description);
      if (scan.verdict === 'dangerous') {
        this.refused.push({ severity: 'error', file: skill.file, line: 2, field: 'description', message: `the description was refused by the injection scanner (${scan.rule ?? 'dangerous'}), so the skill is left out of the prompt index`, fix: 'Rewrite the description as a plain statement of what the skill does and when to use it.' });
        continue;
      }
      entries.set(skill.id, desc);
      texts.set(skill.id, skill.text);
      const line = `- ${skill.id}: ${desc}`;
      if (used + line.length + 1 > this.maxChars) {
        left++;
        continue;
      }
      lines.push(line);
      used += line.length + 1;
    }
    if (lines.length === 0) return { text: '', entries, texts };
    if (left) lines.push(`- … and ${left} more: call skills_list to see them.`);
    return { text: `${HEADER}\n${lines.join('\n')}`, entries, texts };
  }

  /** `resolveCommands`: one `/<skill>` per user-invocable skill, skipping names already taken. */
  async commands(existing: SlashCommandInfo[], warnings: Problem[]): Promise<SlashCommandInfo[]> {
    const taken = new Set([...BUILTIN_CHAT_COMMANDS, ...existing.map((c) => c.name)]);
    const out = [...existing];
    warnings.length = 0;
    for (const { skill, missing } of await usable(this.catalog, this.gate)) {
      if (!skill.userInvocable || missing.length) continue;
      if (!COMMAND_NAME.test(skill.id)) {
        warnings.push({ severity: 'warning', file: skill.file, line: 2, field: 'name', message: `'${skill.id}' cannot be a slash command (longer than 64 characters)`, fix: 'Shorten the skill name.' });
        continue;
      }
      if (taken.has(skill.id)) {
        const owner = BUILTIN_CHAT_COMMANDS.includes(skill.id) ? 'a built-in chat command' : `a command of ${existing.find((c) => c.name === skill.id)?.plugin ?? 'another plugin'}`;
        warnings.push({ severity: 'warning', file: skill.file, line: 2, field: 'name', message: `/${skill.id} is ${owner}, so the skill is not offered as a slash command`, fix: `Rename the skill if you want /${skill.id} for it; skill_view still reads it.` });
        this.ctx.log.warn(`skill '${skill.id}' is not a slash command: /${skill.id} is ${owner}`);
        continue;
      }
      taken.add(skill.id);
      out.push({ name: skill.id, description: oneLine(`${skill.description}${skill.argumentHint ? ` (${skill.argumentHint})` : ''}`, 300) });
    }
    return out;
  }

  /** `runCommand`: the skill's body and the arguments, as the user's message. */
  async run(call: SlashCommandCall): Promise<SlashCommandResult | undefined> {
    await this.catalog.ready();
    const skill = this.catalog.get(call.name);
    if (!skill || !skill.userInvocable || BUILTIN_CHAT_COMMANDS.includes(call.name)) return undefined;
    const scan = await this.gate.scan(skill.body);
    if (scan.verdict === 'dangerous') {
      return { print: `/${call.name} refused: the skill's instructions look like a prompt injection (${scan.rule ?? 'dangerous'}). Read ${skill.file} and fix or remove it; \`caduceus skills doctor\` shows the finding.` };
    }
    return { message: invocationText(skill, call.args) };
  }
}

const HEADER = 'Skills are folders of instructions for particular tasks. When a task matches one below, call skill_view with its name and follow what it says before you start; skill_view also lists its support files (references, scripts, templates, assets), which you read with skill_view and a file path.';

/** The message a slash command sends: `$ARGUMENTS` in the body is replaced; otherwise they follow it. */
export function invocationText(skill: Skill, args: string): string {
  const body = skill.body.replace(/^\n+/, '').replace(/\s+$/, '');
  const head = `Use the skill "${skill.id}" (${skill.dir}). Its instructions:\n\n`;
  if (body.includes('$ARGUMENTS')) return `${head}${body.split('$ARGUMENTS').join(args)}`;
  return `${head}${body}${args ? `\n\nArguments: ${args}` : ''}`;
}

function describeDelta(frozen: Frozen, now: Frozen): string {
  const added = [...now.entries.keys()].filter((id) => !frozen.entries.has(id));
  const removed = [...frozen.entries.keys()].filter((id) => !now.entries.has(id));
  const changed = [...now.entries.keys()].filter((id) => frozen.entries.has(id) && (frozen.entries.get(id) !== now.entries.get(id) || frozen.texts.get(id) !== now.texts.get(id)));
  if (added.length + removed.length + changed.length === 0) return '';
  const parts = ['The skills list above is from the start of this session. Since then:'];
  for (const id of added) parts.push(`- added ${id}: ${now.entries.get(id)}`);
  for (const id of changed) parts.push(`- changed ${id}: ${now.entries.get(id)} (call skill_view for the current text)`);
  for (const id of removed) parts.push(`- removed ${id} (do not use it)`);
  return parts.join('\n');
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
