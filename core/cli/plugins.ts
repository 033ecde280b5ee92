/** `caduceus plugins …`: listing reads the store only; changes go through the lifecycle module. */
import { c, printJson, progress, statusColour, table, terminalAsk, EXIT } from './output.js';
import { withKernel } from './open.js';
import { describePermission, parsePermission, withinCeiling } from '../permissions.js';

interface JsonOpt { json?: boolean }

export async function list(opts: JsonOpt): Promise<number> {
  return withKernel(async (k) => {
    const rows = k.plugins().map((p) => ({
      id: p.id, version: p.version, enabled: p.enabled, bundled: p.bundled,
      tools: p.manifest.contributes.tools.map((t) => t.name), permissions: p.manifest.permissions, granted: p.grants,
      description: p.manifest.description,
    }));
    if (opts.json) printJson(rows);
    else if (rows.length === 0) console.log('No plugins installed. Install one with `caduceus plugins install <folder|.tgz|npm-spec>`.');
    else {
      console.log(table(rows.map((r) => [r.id, r.version, statusColour(r.enabled ? 'enabled' : 'disabled'), r.bundled ? 'bundled' : 'installed', String(r.tools.length), r.description]),
        ['ID', 'VERSION', 'STATE', 'SOURCE', 'TOOLS', 'DESCRIPTION']));
    }
    return EXIT.OK;
  });
}

function meaning(p: string): string {
  const parsed = parsePermission(p);
  return typeof parsed === 'string' ? `(invalid: ${parsed})` : describePermission(parsed);
}

export async function info(id: string, opts: JsonOpt): Promise<number> {
  return withKernel(async (k) => {
    const p = k.plugin(id);
    const row = k.pluginRow(id);
    const tools = k.listTools().filter((t) => t.plugin === id);
    const out = {
      id: p.id, name: p.manifest.name, version: p.version, description: p.manifest.description, enabled: p.enabled, bundled: p.bundled,
      source: row.source, path: row.path, integrity: row.integrity, engines: p.manifest.engines, requires: p.manifest.requires.plugins,
      permissions: p.manifest.permissions.map((perm) => ({ permission: perm, meaning: meaning(perm), granted: p.grants.includes(perm) })),
      hooks: p.manifest.contributes.hooks,
      tools: tools.map((t) => ({ name: t.name, status: t.status, reason: t.reason, description: t.description })),
    };
    if (opts.json) { printJson(out); return EXIT.OK; }
    console.log(`${c.bold(out.name)} (${out.id}@${out.version}) ${statusColour(out.enabled ? 'enabled' : 'disabled')}${out.bundled ? ' bundled' : ''}`);
    console.log(out.description);
    console.log(`source: ${out.source}\npath: ${out.path}\nintegrity: ${out.integrity}\nengines.caduceus: ${out.engines.caduceus}`);
    if (Object.keys(out.requires).length) console.log(`requires: ${Object.entries(out.requires).map(([d, r]) => `${d} ${r}`).join(', ')}`);
    console.log('permissions:');
    if (out.permissions.length === 0) console.log('  (none)');
    for (const perm of out.permissions) console.log(`  ${perm.granted ? c.green('granted') : c.yellow('not granted')}  ${perm.permission}: ${perm.meaning}`);
    if (out.hooks.length) console.log(`hooks: ${out.hooks.map((h) => `${h.name} (${h.stage})`).join(', ')}`);
    console.log('tools:');
    for (const t of out.tools) console.log(`  ${t.name}  ${statusColour(t.status)}${t.reason ? ` (${t.reason})` : ''}  ${c.dim(t.description)}`);
    return EXIT.OK;
  });
}

export async function install(source: string, opts: JsonOpt): Promise<number> {
  const { installPlugin } = await import('../lifecycle/install.js');
  return withKernel(async (k) => {
    const r = await installPlugin(k, source, opts.json ? () => undefined : progress);
    if (opts.json) { printJson({ ok: true, ...r }); return EXIT.OK; }
    const verb = r.previousVersion === undefined ? 'installed' : r.previousVersion === r.version ? 'reinstalled' : `upgraded from ${r.previousVersion} to`;
    console.log(`${c.green('✓')} ${verb} ${r.id}@${r.version} (${r.integrity})`);
    if (r.lapsedGrants.length) console.log(`  no longer requested, so revoked: ${r.lapsedGrants.join(', ')}`);
    if (r.widenedPermissions.length) {
      console.log(`  the new version asks for permissions ${r.previousVersion} did not:`);
      for (const p of r.widenedPermissions) console.log(`    - ${meaning(p)}  (${p})`);
    }
    if (r.newHooks.length) console.log(`  the new version taps ${r.newHooks.join(', ')}, which ${r.previousVersion} did not`);
    if (r.widenedPermissions.length || r.newHooks.length) {
      console.log(`  so it was left disabled; \`caduceus plugins enable ${r.id}\` will ask you to consent to ${r.widenedPermissions.length ? 'them' : 'its hooks'} (or pass --yes)`);
    } else if (!r.enabled) console.log(`  enable it with: caduceus plugins enable ${r.id}`);
    else if (r.newPermissions.length) console.log(`  the new version requests ${r.newPermissions.join(', ')}, not granted: caduceus plugins grant ${r.id} ${r.newPermissions.join(' ')}`);
    return EXIT.OK;
  });
}

/**
 * `plugins grants <id>`: every permission the manifest requests, in plain words, and whether it is
 * granted; plus grants that lapsed (held for permissions the installed version no longer requests, or
 * revoked by the install that dropped them).
 */
export async function grants(id: string, opts: JsonOpt): Promise<number> {
  return withKernel(async (k) => {
    const p = k.plugin(id);
    const lastInstall = k.tailAudit(20, { plugin: id, kind: 'plugin.install' }).filter((r) => r.outcome === 'ok').at(-1);
    const revoked = lastInstall && (lastInstall.detail as { version?: unknown } | undefined)?.version === p.version
      ? (lastInstall.detail as { lapsedGrants?: unknown }).lapsedGrants : undefined;
    const lapsed = [
      ...p.grants.filter((g) => !withinCeiling(p.manifest.permissions, g)).map((g) => ({ permission: g, meaning: meaning(g), why: `granted, but ${id}@${p.version} does not request it, so it has no effect` })),
      ...(Array.isArray(revoked) ? revoked.filter((g): g is string => typeof g === 'string' && !p.grants.includes(g)) : [])
        .map((g) => ({ permission: g, meaning: meaning(g), why: `revoked when ${id}@${p.version} was installed, which no longer requests it` })),
    ];
    const out = {
      id, version: p.version, enabled: p.enabled,
      permissions: p.manifest.permissions.map((perm) => ({ permission: perm, meaning: meaning(perm), granted: p.grants.includes(perm) })),
      lapsed,
    };
    if (opts.json) { printJson(out); return EXIT.OK; }
    console.log(`${id}@${p.version} ${statusColour(p.enabled ? 'enabled' : 'disabled')} requests:`);
    if (out.permissions.length === 0) console.log('  (nothing)');
    for (const perm of out.permissions) console.log(`  ${perm.granted ? c.green('granted    ') : c.yellow('not granted')}  ${perm.permission}: ${perm.meaning}`);
    if (lapsed.length) {
      console.log('lapsed:');
      for (const l of lapsed) console.log(`  ${l.permission}: ${l.why}`);
    }
    const missing = out.permissions.filter((perm) => !perm.granted).map((perm) => perm.permission);
    if (missing.length) console.log(c.dim(p.enabled ? `grant with: caduceus plugins grant ${id} ${missing.join(' ')}` : `enabling asks for them: caduceus plugins enable ${id}`));
    return EXIT.OK;
  });
}

export async function enable(id: string, opts: JsonOpt & { yes?: boolean }): Promise<number> {
  const { enablePlugin } = await import('../lifecycle/manage.js');
  const ask = terminalAsk();
  return withKernel(async (k) => {
    const r = await enablePlugin(k, id, {
      yes: opts.yes === true,
      ...(ask ? {
        ask: (plugin: string, perms: { permission: string; meaning: string }[]) => {
          process.stderr.write(`Plugin '${plugin}' asks to:\n${perms.map((p) => `  - ${p.meaning}  (${p.permission})`).join('\n')}\n`);
          return ask('Grant these permissions and enable it?');
        },
      } : {}),
    });
    if (opts.json) { printJson({ ok: true, ...r }); return EXIT.OK; }
    if (r.alreadyEnabled) console.log(`${id} is already enabled.`);
    else console.log(`${c.green('✓')} enabled ${id}${r.granted.length ? `; granted: ${r.granted.join(', ')}` : ''}`);
    return EXIT.OK;
  });
}

export async function disable(id: string, opts: JsonOpt): Promise<number> {
  const { disablePlugin } = await import('../lifecycle/manage.js');
  return withKernel(async (k) => {
    const r = await disablePlugin(k, id);
    if (opts.json) printJson({ ok: true, ...r });
    else console.log(r.wasEnabled ? `${c.green('✓')} disabled ${id}` : `${id} was already disabled.`);
    return EXIT.OK;
  });
}

export async function remove(id: string, opts: JsonOpt): Promise<number> {
  const { removePlugin } = await import('../lifecycle/manage.js');
  return withKernel(async (k) => {
    const r = await removePlugin(k, id);
    if (opts.json) printJson({ ok: true, ...r });
    else console.log(`${c.green('✓')} removed ${r.id}@${r.version}`);
    return EXIT.OK;
  });
}

export async function grant(id: string, permissions: string[], opts: JsonOpt): Promise<number> {
  const { grantPermissions } = await import('../lifecycle/manage.js');
  return withKernel(async (k) => {
    const granted = await grantPermissions(k, id, permissions);
    if (opts.json) printJson({ ok: true, id, granted });
    else console.log(`${c.green('✓')} ${id} now has: ${granted.join(', ') || '(nothing)'}`);
    return EXIT.OK;
  });
}

export async function revoke(id: string, permissions: string[], opts: JsonOpt): Promise<number> {
  const { revokePermissions } = await import('../lifecycle/manage.js');
  return withKernel(async (k) => {
    const granted = await revokePermissions(k, id, permissions);
    if (opts.json) printJson({ ok: true, id, granted });
    else console.log(`${c.green('✓')} ${id} now has: ${granted.join(', ') || '(nothing)'}`);
    return EXIT.OK;
  });
}
