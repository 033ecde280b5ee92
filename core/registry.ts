/**
 * The capability registry: tools keyed by name, built from the manifests of enabled plugins without
 * starting anything, each with a live status and the reason and fix when it cannot run. Two enabled
 * plugins that contribute the same name are a conflict naming both owners; neither is served, so the
 * outcome never depends on discovery order.
 */
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createRequire } from 'node:module';
import type * as Semver from 'semver';
import type { ToolDescriptor, ToolStatus, Manifest } from './manifest/schema.js';

export interface PluginRecord {
  id: string;
  version: string;
  enabled: boolean;
  bundled: boolean;
  manifest: Manifest;
  grants: string[];
}

/** Where a tool comes from: a plugin's isolate, or another tool source (core/tool-source.ts). */
export type ToolOrigin = 'plugin' | 'mcp';

/** What an MCP tool was called on its server, and the hints its server gave (core/mcp/). */
export interface McpToolInfo {
  server: string;
  tool: string;
  title?: string;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean };
}

export interface ToolView extends ToolDescriptor {
  /** The owner: a plugin id, or `mcp:<server>` for a tool of an MCP server (never a valid plugin id). */
  plugin: string;
  origin: ToolOrigin;
  /** MCP tools only. */
  mcp?: McpToolInfo;
  status: ToolStatus;
  reason?: string;
  fix?: string;
}

/** Runtime facts the registry cannot read from manifests (supervisor state, config). */
export interface RuntimeFacts {
  struckOut(plugin: string): string | undefined;
  inBackoff(plugin: string): boolean;
  config(plugin: string): Record<string, unknown>;
}

export interface Registry {
  tools: Map<string, ToolView>;
  conflicts: { name: string; plugins: string[] }[];
}

let semver: typeof Semver | undefined;
/** semver is loaded only when some plugin declares requires.plugins (≈13 ms of start-up otherwise). */
function satisfies(version: string, range: string): boolean {
  semver ??= createRequire(import.meta.url)('semver') as typeof Semver;
  return semver.satisfies(version, range, { includePrerelease: true });
}

const binCache = new Map<string, boolean>();
function hasBin(bin: string): boolean {
  let hit = binCache.get(bin);
  if (hit === undefined) {
    hit = (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, bin)));
    binCache.set(bin, hit);
  }
  return hit;
}

export function buildRegistry(plugins: readonly PluginRecord[], facts: RuntimeFacts): Registry {
  const byId = new Map(plugins.map((p) => [p.id, p]));
  const owners = new Map<string, string[]>();
  for (const p of plugins) {
    if (!p.enabled) continue;
    for (const t of p.manifest.contributes.tools) owners.set(t.name, [...(owners.get(t.name) ?? []), p.id]);
  }
  const conflicts = [...owners].filter(([, ids]) => ids.length > 1).map(([name, ids]) => ({ name, plugins: ids.sort() }));
  const conflicted = new Map(conflicts.map((c) => [c.name, c.plugins]));

  const tools = new Map<string, ToolView>();
  // Plain code-unit order: ids are ASCII by schema, and localeCompare would load ICU (≈7 ms) at start-up.
  for (const p of [...plugins].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    for (const t of p.manifest.contributes.tools) {
      const view: ToolView = { ...t, plugin: p.id, origin: 'plugin', status: 'available' };
      Object.assign(view, statusOf(p, t, byId, facts, conflicted.get(t.name)));
      // A disabled plugin's tool never shadows an enabled one of the same name.
      const existing = tools.get(t.name);
      if (existing && existing.status !== 'disabled' && view.status === 'disabled') continue;
      tools.set(t.name, view);
    }
  }
  return { tools, conflicts };
}

function statusOf(
  p: PluginRecord, t: ToolDescriptor, byId: Map<string, PluginRecord>, facts: RuntimeFacts, conflict: string[] | undefined,
): Pick<ToolView, 'status' | 'reason' | 'fix'> {
  if (!p.enabled) {
    // Enabling would fail on a missing dependency, so name that first rather than suggest the enable.
    const unmet = unmetDependency(p, byId);
    if (unmet) {
      return { status: 'disabled', reason: `plugin '${p.id}' is disabled and requires ${unmet.what}`, fix: `install and enable '${unmet.dep}' ${unmet.range}, then caduceus plugins enable ${p.id}` };
    }
    return { status: 'disabled', reason: `plugin '${p.id}' is disabled`, fix: `caduceus plugins enable ${p.id}` };
  }
  const struck = facts.struckOut(p.id);
  if (struck) return { status: 'disabled', reason: struck, fix: `caduceus audit tail --plugin ${p.id}` };
  if (conflict) {
    return {
      status: 'unavailable',
      reason: `tool name '${t.name}' is contributed by plugins ${conflict.map((c) => `'${c}'`).join(' and ')}`,
      fix: `disable one of them: caduceus plugins disable ${conflict[1]}`,
    };
  }
  const unmet = unmetDependency(p, byId);
  if (unmet) return { status: 'missing_dependency', reason: `plugin '${p.id}' requires ${unmet.what}`, fix: `install and enable '${unmet.dep}' ${unmet.range}` };
  const missingBin = t.availability.bins.find((b) => !hasBin(b));
  if (missingBin) return { status: 'missing_dependency', reason: `program '${missingBin}' is not on PATH`, fix: `install '${missingBin}'` };
  const granted = new Set(p.grants);
  const missingGrant = t.availability.permissions.find((perm) => !granted.has(perm));
  if (missingGrant) {
    return { status: 'unavailable', reason: `permission '${missingGrant}' is not granted`, fix: `caduceus plugins grant ${p.id} ${missingGrant}` };
  }
  const missingEnv = t.availability.env.find((e) => !process.env[e]);
  if (missingEnv) return { status: 'unavailable', reason: `environment variable ${missingEnv} is not set`, fix: `export ${missingEnv}=…` };
  const config = facts.config(p.id);
  const missingConfig = t.availability.config.find((k) => config[k] === undefined);
  if (missingConfig) {
    return { status: 'unavailable', reason: `config key '${missingConfig}' is not set`, fix: `set plugins.${p.id}.${missingConfig} in $CADUCEUS_HOME/config.json` };
  }
  if (facts.inBackoff(p.id)) return { status: 'degraded', reason: `plugin '${p.id}' is restarting after a failure`, fix: 'retry shortly' };
  return { status: 'available' };
}

/** The first requires.plugins entry that is not installed, not enabled or at a version outside its range. */
function unmetDependency(p: PluginRecord, byId: Map<string, PluginRecord>): { dep: string; range: string; what: string } | undefined {
  for (const [dep, range] of Object.entries(p.manifest.requires.plugins)) {
    const d = byId.get(dep);
    if (!d || !d.enabled || !satisfies(d.version, range)) {
      return { dep, range, what: `'${dep}' ${range}, which is ${!d ? 'not installed' : !d.enabled ? 'disabled' : `at ${d.version}`}` };
    }
  }
  return undefined;
}
