/**
 * Operator actions on installed plugins: enable (with consent to the requested permissions), disable,
 * remove, grant and revoke. Each verifies before it changes anything, changes the store in one
 * transaction, and writes an audit row.
 */
import { rmSync } from 'node:fs';
import { CaduceusError, fixFor } from '../errors.js';
import { meaningOf, parsePermission, withinCeiling } from '../permissions.js';
import { orderByDependencies, type DependencyNode } from '../manifest/load.js';
import type { Kernel } from '../kernel.js';

export interface Consent {
  /** Grant everything requested without asking (`--yes`). */
  yes?: boolean;
  /** Asks the operator; absent when nothing can ask. */
  ask?: (plugin: string, permissions: { permission: string; meaning: string }[]) => Promise<boolean>;
}

export interface EnableResult {
  id: string;
  granted: string[];
  alreadyEnabled: boolean;
}

export async function enablePlugin(k: Kernel, id: string, consent: Consent): Promise<EnableResult> {
  const record = k.plugin(id);
  if (record.enabled) return { id, granted: record.grants, alreadyEnabled: true };
  const m = record.manifest;
  // dependencies among what would be enabled
  const nodes = new Map<string, DependencyNode>();
  for (const p of k.plugins()) if (p.enabled || p.id === id) nodes.set(p.id, { id: p.id, version: p.version, requires: p.manifest.requires.plugins });
  orderByDependencies([id], nodes);
  // duplicate capability names against enabled plugins
  for (const other of k.plugins()) {
    if (!other.enabled || other.id === id) continue;
    for (const t of m.contributes.tools) {
      if (other.manifest.contributes.tools.some((o) => o.name === t.name)) {
        throw new CaduceusError('CAD_ERR_REGISTRY_DUPLICATE',
          `Plugin '${id}' contributes tool '${t.name}', which enabled plugin '${other.id}' already contributes. Disable '${other.id}' (\`caduceus plugins disable ${other.id}\`) or rename the tool.`,
          { plugin: id, tool: t.name, details: { owners: [other.id, id] } });
      }
    }
    for (const c of m.contributes.commands) {
      if (other.manifest.contributes.commands.some((o) => o.name === c.name)) {
        throw new CaduceusError('CAD_ERR_REGISTRY_DUPLICATE',
          `Plugin '${id}' contributes command '${c.name}', which enabled plugin '${other.id}' already contributes. Disable '${other.id}' (\`caduceus plugins disable ${other.id}\`) or rename the command.`,
          { plugin: id, details: { command: c.name, owners: [other.id, id] } });
      }
    }
  }
  const missing = m.permissions.filter((p) => !record.grants.includes(p));
  // Hooks are capabilities too: a beforeToolCall tap sees every call, an afterToolCall tap can rewrite
  // every result. They are shown and consented to with the permissions, every time a plugin is enabled.
  const hooks = m.contributes.hooks.map((h) => ({
    permission: `hook:${h.name}`,
    meaning: h.name === 'beforeToolCall' && h.scope === 'tool' ? 'see which tools are called (not their arguments) and deny them or ask for approval' : HOOK_MEANING[h.name] ?? h.name,
  }));
  if ((missing.length > 0 || hooks.length > 0) && !consent.yes) {
    const listed = [...missing.map((p) => ({ permission: p, meaning: meaningOf(p) })), ...hooks];
    const ok = consent.ask ? await consent.ask(id, listed) : false;
    if (!ok) {
      k.audit({ ts: Date.now(), kind: 'plugin.enable', plugin: id, outcome: 'denied', code: 'CAD_ERR_PERMISSION_CONSENT_REQUIRED', detail: { requested: missing, asked: !!consent.ask } });
      throw new CaduceusError('CAD_ERR_PERMISSION_CONSENT_REQUIRED',
        consent.ask
          ? `Plugin '${id}' was not enabled: consent to ${listed.map((l) => l.permission).join(', ')} was refused. Nothing was granted.`
          : `Plugin '${id}' asks for ${listed.map((l) => l.permission).join(', ')} and nothing could ask for consent, so nothing was granted. Re-run with --yes to grant them, or in a terminal to be asked.`,
        { plugin: id, details: { requested: listed.map((l) => l.permission) } });
    }
  }
  k.store.db.transaction(() => {
    k.store.grant(id, missing);
    k.store.setEnabled(id, true);
  })();
  k.invalidate();
  // Prove the plugin loads (verification chain + boot) before reporting success; undo on failure.
  try {
    await k.activate(id);
  } catch (err) {
    k.store.db.transaction(() => {
      k.store.setEnabled(id, false);
      if (missing.length) k.store.revoke(id, missing);
    })();
    k.invalidate();
    throw err;
  }
  k.tapHooksOf(m);
  k.audit({ ts: Date.now(), kind: 'plugin.enable', plugin: id, outcome: 'ok', detail: { granted: missing } });
  for (const p of missing) k.audit({ ts: Date.now(), kind: 'plugin.grant', plugin: id, outcome: 'ok', detail: { permission: p } });
  return { id, granted: [...record.grants, ...missing], alreadyEnabled: false };
}

const HOOK_MEANING: Record<string, string> = {
  beforeToolCall: 'see every tool call (tool, arguments, caller) and deny it or ask for approval',
  afterToolCall: 'see and rewrite every tool result',
  resolveTools: 'hide tools from the list models are shown',
  toolError: 'see every failed tool call',
  pluginLoad: 'veto the loading of other plugins',
  pluginLoaded: 'be told when plugins load',
  pluginUnloaded: 'be told when plugins unload',
  buildPrompt: 'add to, change or remove parts of the system prompt every model sees',
  sessionStart: 'be told when an agent session starts (its id, model and working directory)',
  sessionEnd: 'be told when an agent session ends',
  resolveCommands: 'add slash commands to `caduceus chat`',
  runCommand: 'answer slash commands, sending text to the model as the user',
  skillsChanged: 'be told when skills are added, changed or removed',
};

function dependentsOf(k: Kernel, id: string): string[] {
  return k.plugins().filter((p) => p.enabled && p.id !== id && id in p.manifest.requires.plugins).map((p) => p.id);
}

export async function disablePlugin(k: Kernel, id: string): Promise<{ id: string; wasEnabled: boolean }> {
  const record = k.plugin(id);
  if (!record.enabled) return { id, wasEnabled: false };
  const dependents = dependentsOf(k, id);
  if (dependents.length) {
    throw new CaduceusError('CAD_ERR_DEPENDENCY_DEPENDENT',
      `Plugin '${id}' is required by enabled plugin(s) ${dependents.map((d) => `'${d}'`).join(', ')}. Disable them first.`, { plugin: id, details: { dependents } });
  }
  await k.deactivate(id, 'disabled');
  k.store.setEnabled(id, false);
  k.invalidate();
  k.audit({ ts: Date.now(), kind: 'plugin.disable', plugin: id, outcome: 'ok' });
  return { id, wasEnabled: true };
}

export async function removePlugin(k: Kernel, id: string): Promise<{ id: string; version: string }> {
  const record = k.plugin(id);
  const row = k.pluginRow(id);
  if (record.bundled) {
    throw new CaduceusError('CAD_ERR_PLUGIN_BUNDLED', `Plugin '${id}' is bundled with Caduceus and cannot be removed. Run \`caduceus plugins disable ${id}\` instead.`, { plugin: id });
  }
  const dependents = dependentsOf(k, id);
  if (dependents.length) {
    throw new CaduceusError('CAD_ERR_DEPENDENCY_DEPENDENT',
      `Plugin '${id}' is required by enabled plugin(s) ${dependents.map((d) => `'${d}'`).join(', ')}. Disable or remove them first.`, { plugin: id, details: { dependents } });
  }
  await k.deactivate(id, 'removed');
  k.store.db.transaction(() => {
    k.store.revoke(id, 'all');
    k.store.deletePlugin(id);
  })();
  k.invalidate();
  rmSync(row.path, { recursive: true, force: true });
  k.audit({ ts: Date.now(), kind: 'plugin.remove', plugin: id, outcome: 'ok', detail: { version: record.version } });
  return { id, version: record.version };
}

function checkRequested(k: Kernel, id: string, permissions: string[]): void {
  const m = k.plugin(id).manifest;
  for (const p of permissions) {
    const parsed = parsePermission(p);
    if (typeof parsed === 'string') {
      throw new CaduceusError('CAD_ERR_PERMISSION_INVALID', `Permission ${JSON.stringify(p)} for plugin '${id}' is invalid: ${parsed}. ${fixFor('CAD_ERR_PERMISSION_INVALID')}`, { plugin: id });
    }
    if (!withinCeiling(m.permissions, p)) {
      throw new CaduceusError('CAD_ERR_PERMISSION_NOT_REQUESTED',
        `Plugin '${id}' does not request ${JSON.stringify(p)}, so it cannot be granted. It requests: ${m.permissions.join(', ') || 'nothing'}; grant only those (\`caduceus plugins info ${id}\` lists them).`, { plugin: id });
    }
  }
}

export async function grantPermissions(k: Kernel, id: string, permissions: string[]): Promise<string[]> {
  checkRequested(k, id, permissions);
  k.store.grant(id, permissions);
  k.invalidate();
  for (const p of permissions) k.audit({ ts: Date.now(), kind: 'plugin.grant', plugin: id, outcome: 'ok', detail: { permission: p } });
  await k.deactivate(id, 'grants changed');
  return k.store.grants(id);
}

export async function revokePermissions(k: Kernel, id: string, permissions: string[]): Promise<string[]> {
  k.plugin(id);
  k.store.revoke(id, permissions);
  k.invalidate();
  for (const p of permissions) k.audit({ ts: Date.now(), kind: 'plugin.revoke', plugin: id, outcome: 'ok', detail: { permission: p } });
  await k.deactivate(id, 'grants changed');
  return k.store.grants(id);
}
