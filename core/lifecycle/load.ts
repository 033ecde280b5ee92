/**
 * Loading one plugin generation. Runs the verification chain in its fixed order before any plugin code
 * runs (schema → engine range → dependencies → permissions vs grants → integrity), lets pluginLoad taps
 * veto, then starts the plugin's supervised sandbox and checks that the code registers exactly what the
 * manifest declares.
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CaduceusError } from '../errors.js';
import { manifestSchema, type Manifest } from '../manifest/schema.js';
import { checkEngine, checkIntegrity, orderByDependencies, resolveMain, type DependencyNode } from '../manifest/load.js';
import { effectiveGrants, type Permission } from '../permissions.js';
import { createSyscalls } from '../syscalls/index.js';
import { verifyCommands } from '../commands.js';
import { extendedDepsOf } from '../syscalls/extended.js';
import { ProcessTable } from '../syscalls/processes.js';
import { Supervisor } from '../sandbox/supervisor.js';
import { compileSchema, describeErrors } from '../validate.js';
import type { Kernel } from '../kernel.js';
import type { BootInfo } from '../sandbox/sandbox.js';
import { execPolicyOf } from '../approvals.js';
import { blockedDomains } from '../safety/policy.js';

export const LOAD_TIMEOUT_MS = 5_000;

/**
 * The verification chain, in its fixed order, without running any plugin code. Used by every load and
 * by `caduceus doctor` (which also checks disabled plugins; dependencies are checked for enabled ones).
 */
export function verifyPlugin(k: Kernel, id: string): { m: Manifest; grants: Permission[]; mainFile: string } {
  const row = k.pluginRow(id);
  // 1. schema (the stored copy is re-validated: the store may predate a schema change)
  const parsed = manifestSchema.safeParse(JSON.parse(row.manifest));
  if (!parsed.success) {
    throw new CaduceusError('CAD_ERR_MANIFEST_SCHEMA', `Plugin '${id}' stored manifest no longer matches schema v1: ${parsed.error.issues[0]?.message}. Reinstall the plugin.`, { plugin: id });
  }
  const m = parsed.data;
  // 2. engine range
  checkEngine(m, k.version);
  // 3. dependencies
  const record = k.plugin(id);
  if (record.enabled) {
    const enabled = new Map<string, DependencyNode>(
      k.plugins().filter((p) => p.enabled).map((p) => [p.id, { id: p.id, version: p.version, requires: p.manifest.requires.plugins }]),
    );
    orderByDependencies([id], enabled);
  }
  // 4. permissions vs grants
  const grants = effectiveGrants(m.permissions, record.grants);
  // 5. integrity
  const mainFile = resolveMain(row.path, m);
  checkIntegrity(m, mainFile, row.integrity);
  return { m, grants, mainFile };
}

export async function loadPlugin(k: Kernel, id: string, generation: number): Promise<Supervisor> {
  const t0 = performance.now();
  const row = k.pluginRow(id);
  try {
    if (row.enabled !== 1) {
      throw new CaduceusError('CAD_ERR_PLUGIN_DISABLED', `Plugin '${id}' is disabled. Run \`caduceus plugins enable ${id}\`.`, { plugin: id });
    }
    const { m, grants, mainFile } = verifyPlugin(k, id);
    // plugin config against its configSchema
    const config = k.configFor(id);
    const validConfig = compileSchema(m.configSchema);
    if (!validConfig(config)) {
      throw new CaduceusError('CAD_ERR_CONFIG_INVALID', `Plugin '${id}' config (plugins.${id} in config.json) is invalid: ${describeErrors(validConfig.errors)}.`, { plugin: id });
    }
    // Plugins that vet loads (tap pluginLoad) are not vetted themselves: two vetters would otherwise wait
    // on each other's activation forever. They pass the same verification chain as every plugin, and
    // they are started before the vetting so a vetter that cannot start vetoes (fail closed).
    const vetsLoads = (man: { contributes: { hooks: { name: string }[] } }) => man.contributes.hooks.some((h) => h.name === 'pluginLoad');
    if (k.hooks.pluginLoad.isUsed() && !vetsLoads(m)) {
      for (const v of k.plugins()) {
        if (v.enabled && v.id !== id && vetsLoads(v.manifest)) await k.activate(v.id).catch(() => undefined);
      }
      const veto = await k.hooks.pluginLoad.promise({ id, version: m.version, source: row.source, integrity: row.integrity, permissions: grants.map((g) => g.raw), generation });
      if (veto) throw new CaduceusError('CAD_ERR_PLUGIN_LOAD_FAILED', `Plugin '${id}' was refused by a pluginLoad guard: ${veto.veto}.`, { plugin: id });
    }
    const pluginData = join(k.home, 'data', id);
    if (grants.some((g) => (g.kind === 'fs.read' || g.kind === 'fs.write') && g.path.startsWith('$PLUGIN_DATA'))) mkdirSync(pluginData, { recursive: true });
    const syscall = createSyscalls({
      plugin: id,
      grants,
      store: k.store,
      workspace: k.workspace,
      caduceusHome: k.home,
      pluginData,
      audit: (e) => k.audit(e),
      log: k.logSink,
      fakes: k.fakes,
      secrets: k.secrets,
      execPolicy: () => execPolicyOf(k),
      blockedDomains: () => blockedDomains(k.settings()),
      approve: (req) => k.approve(req),
      extended: extendedDepsOf(k),
      providerCalls: k.providerCalls,
      processes: () => (k.processTable ??= new ProcessTable()),
      callTool: async (name, args, caller) => {
        const r = await k.callTool(name, args, { caller });
        if (r.ok) return r.result;
        throw new CaduceusError(r.error.code, r.error.message, { plugin: r.error.plugin, tool: name });
      },
    });
    const supervisor = new Supervisor({
      pluginId: id,
      generation,
      memoryMb: m.sandbox.memoryMb,
      wasm: grants.some((g) => g.kind === 'wasm'),
      config,
      loadTimeoutMs: LOAD_TIMEOUT_MS,
      readBundle: () => {
        checkIntegrity(m, mainFile, row.integrity);
        return { source: readFileSync(mainFile, 'utf8'), file: mainFile };
      },
      verifyBoot: (info) => { verifyBoot(id, m.contributes.tools.map((t) => t.name), m.contributes.hooks.map((h) => h.name), info, m.contributes.providers.map((p) => p.name)); verifyCommands(id, m.contributes.commands.map((c) => c.name), info); },
      syscall,
      ...(k.strikePolicy ? { policy: k.strikePolicy } : {}),
      onEvent: (ev) => {
        k.onSupervisorChange();
        if (ev.type === 'started') {
          k.audit({ ts: Date.now(), kind: 'plugin.load', plugin: id, outcome: 'ok', durationUs: ev.durationUs, detail: { version: m.version, generation, heapBytes: ev.heapBytes } });
        } else if (ev.type === 'failure') {
          k.audit({ ts: Date.now(), kind: `plugin.${ev.kind === 'timeout' ? 'timeout' : 'crash'}`, plugin: id, outcome: ev.kind === 'timeout' ? 'timeout' : 'crash', code: ev.error.code, detail: { strikes: ev.strikes, backoffMs: ev.backoffMs, message: ev.error.message.slice(0, 500) } });
        } else {
          k.audit({ ts: Date.now(), kind: 'plugin.struck_out', plugin: id, outcome: 'error', code: ev.error.code, detail: { strikes: ev.strikes } });
        }
      },
    });
    supervisor.start();
    if (k.hooks.pluginLoaded.isUsed()) {
      void k.hooks.pluginLoaded.promise({ id, version: m.version, generation }).catch(() => undefined);
    }
    return supervisor;
  } catch (err) {
    const e = err instanceof CaduceusError ? err : new CaduceusError('CAD_ERR_PLUGIN_LOAD_FAILED', `Plugin '${id}' failed to load: ${(err as Error).message}`, { plugin: id });
    k.audit({ ts: Date.now(), kind: 'plugin.load', plugin: id, outcome: 'error', code: e.code, durationUs: Math.round((performance.now() - t0) * 1000), detail: { message: e.message.slice(0, 500), generation } });
    throw e;
  }
}

/** The code must register exactly the declared tools, and tap only declared hooks. */
export function verifyBoot(id: string, declaredTools: string[], declaredHooks: string[], info: BootInfo, declaredProviders: string[] = []): void {
  const registered = info.providers ?? [];
  const strayProviders = [...registered.filter((p) => !declaredProviders.includes(p)), ...declaredProviders.filter((p) => !registered.includes(p))];
  if (strayProviders.length) {
    throw new CaduceusError(registered.some((p) => !declaredProviders.includes(p)) ? 'CAD_ERR_REGISTRY_UNDECLARED' : 'CAD_ERR_REGISTRY_MISSING',
      `Plugin '${id}' providers in code (${registered.join(', ') || 'none'}) and in contributes.providers (${declaredProviders.join(', ') || 'none'}) differ. Rebuild the plugin so the manifest is generated from the code.`,
      { plugin: id, details: { registered, declared: declaredProviders } });
  }
  const undeclared = info.tools.filter((t) => !declaredTools.includes(t));
  if (undeclared.length) {
    throw new CaduceusError('CAD_ERR_REGISTRY_UNDECLARED',
      `Plugin '${id}' registers tool(s) ${undeclared.map((t) => `'${t}'`).join(', ')} that its manifest does not declare in contributes.tools. Rebuild the plugin so the manifest is generated from the code.`,
      { plugin: id, details: { undeclared } });
  }
  const missing = declaredTools.filter((t) => !info.tools.includes(t));
  if (missing.length) {
    throw new CaduceusError('CAD_ERR_REGISTRY_MISSING',
      `Plugin '${id}' manifest declares tool(s) ${missing.map((t) => `'${t}'`).join(', ')} that its code does not register. Rebuild the plugin.`,
      { plugin: id, details: { missing } });
  }
  const undeclaredHooks = info.hooks.filter((h) => !declaredHooks.includes(h));
  if (undeclaredHooks.length) {
    throw new CaduceusError('CAD_ERR_REGISTRY_UNDECLARED',
      `Plugin '${id}' taps hook(s) ${undeclaredHooks.map((h) => `'${h}'`).join(', ')} that its manifest does not declare in contributes.hooks. Declare them (with a stage) and rebuild.`,
      { plugin: id, details: { undeclaredHooks } });
  }
}
