/**
 * CLI commands that plugins serve (`caduceus <name> ...`): the names built-in commands reserve, the check
 * the build and install make against them, and the table of contributed commands the CLI dispatches on.
 * Like tools, two enabled plugins that contribute one name are a conflict naming both, and neither is
 * served, so the outcome never depends on discovery order. This file reads manifests only; running a
 * command is core/command-run.ts.
 */
import { CaduceusError } from './errors.js';
import type { CommandDeclaration, Manifest } from './manifest/schema.js';
import type { PluginRecord } from './registry.js';

/**
 * Top-level names no plugin may take: the commands `core/cli/main.ts` defines, commander's `help`, and
 * the ones the design reserves for the kernel. A contract test checks that every command in
 * `caduceus --help` is listed here.
 */
export const BUILTIN_COMMANDS: ReadonlySet<string> = new Set([
  'plugins', 'plugin', 'tools', 'types', 'doctor', 'guards', 'audit', 'secrets', 'approvals', 'help',
  'run', 'chat', 'serve', 'mcp', 'sessions', 'config', 'providers', 'models',
]);

/** Refuses a manifest that contributes a reserved or duplicated command name (build and install). */
export function checkCommandNames(m: Pick<Manifest, 'id' | 'contributes'>): void {
  const seen = new Set<string>();
  for (const c of m.contributes.commands) {
    if (BUILTIN_COMMANDS.has(c.name)) {
      throw new CaduceusError('CAD_ERR_COMMAND_RESERVED',
        `Plugin '${m.id}' contributes the command '${c.name}', which is a built-in caduceus command. Rename it in defineCommand({ name }) and rebuild; reserved names: ${[...BUILTIN_COMMANDS].join(', ')}.`,
        { plugin: m.id, details: { command: c.name } });
    }
    if (seen.has(c.name)) {
      throw new CaduceusError('CAD_ERR_REGISTRY_DUPLICATE',
        `Plugin '${m.id}' contributes the command '${c.name}' twice. Keep one defineCommand per name and rebuild.`, { plugin: m.id, details: { command: c.name } });
    }
    seen.add(c.name);
  }
}

export interface CommandEntry {
  name: string;
  plugin: string;
  enabled: boolean;
  declaration: CommandDeclaration;
}

export interface CommandTable {
  /** Served commands: one enabled owner (or, when no enabled plugin has it, the disabled ones, for errors). */
  byName: Map<string, CommandEntry[]>;
  /** Names two or more enabled plugins contribute: served by nobody. */
  conflicts: { name: string; plugins: string[] }[];
}

/** Every contributed command, from stored manifests; starts nothing. Reserved names are never listed. */
export function commandTable(records: readonly PluginRecord[]): CommandTable {
  const byName = new Map<string, CommandEntry[]>();
  for (const p of records) {
    for (const c of p.manifest.contributes.commands ?? []) {
      if (BUILTIN_COMMANDS.has(c.name)) continue;
      byName.set(c.name, [...(byName.get(c.name) ?? []), { name: c.name, plugin: p.id, enabled: p.enabled, declaration: c }]);
    }
  }
  const conflicts: CommandTable['conflicts'] = [];
  for (const [name, entries] of byName) {
    const enabled = entries.filter((e) => e.enabled);
    if (enabled.length > 1) conflicts.push({ name, plugins: enabled.map((e) => e.plugin).sort() });
  }
  return { byName, conflicts };
}

/**
 * The one plugin that serves `name`, or a coded error saying why none does: nobody contributes it
 * (CAD_ERR_COMMAND_NOT_FOUND), only disabled plugins do (CAD_ERR_PLUGIN_DISABLED), or two enabled ones do
 * (CAD_ERR_REGISTRY_DUPLICATE).
 */
export function resolveCommand(records: readonly PluginRecord[], name: string): CommandEntry {
  const entries = commandTable(records).byName.get(name) ?? [];
  const enabled = entries.filter((e) => e.enabled);
  if (enabled.length === 1) return enabled[0]!;
  if (enabled.length > 1) {
    const owners = enabled.map((e) => e.plugin).sort();
    throw new CaduceusError('CAD_ERR_REGISTRY_DUPLICATE',
      `Command '${name}' is contributed by enabled plugins ${owners.map((o) => `'${o}'`).join(' and ')}, so neither serves it. Disable one of them: caduceus plugins disable ${owners[1]}.`,
      { plugin: owners[0], details: { command: name, owners } });
  }
  if (entries.length > 0) {
    const id = entries[0]!.plugin;
    throw new CaduceusError('CAD_ERR_PLUGIN_DISABLED',
      `Command '${name}' comes from plugin '${id}', which is disabled. Run \`caduceus plugins enable ${id}\`.`, { plugin: id, details: { command: name } });
  }
  throw new CaduceusError('CAD_ERR_COMMAND_NOT_FOUND',
    `No built-in command and no installed plugin provides '${name}'. Run \`caduceus --help\` to see the commands there are.`, { details: { command: name } });
}

/** At boot: the code must register exactly the commands the manifest declares. */
export function verifyCommands(id: string, declared: readonly string[], info: { commands?: string[] }): void {
  const registered = info.commands ?? [];
  const undeclared = registered.filter((c) => !declared.includes(c));
  const missing = declared.filter((c) => !registered.includes(c));
  if (undeclared.length || missing.length) {
    throw new CaduceusError(undeclared.length ? 'CAD_ERR_REGISTRY_UNDECLARED' : 'CAD_ERR_REGISTRY_MISSING',
      `Plugin '${id}' commands in code (${registered.join(', ') || 'none'}) and in contributes.commands (${declared.join(', ') || 'none'}) differ. Rebuild the plugin so the manifest is generated from the code.`,
      { plugin: id, details: { registered, declared } });
  }
}
