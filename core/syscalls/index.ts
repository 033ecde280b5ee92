/**
 * The host API a plugin reaches through its isolate bridge, built per plugin from its effective grants.
 * Every call is checked against those grants here, on the host: a plugin that calls the bridge directly
 * gets no further than one that uses the SDK. A call outside the grants fails with
 * CAD_ERR_PERMISSION_DENIED and an audit row, and nothing happens.
 */
import { CaduceusError } from '../errors.js';
import type { Permission } from '../permissions.js';
import { expandGrantPath } from '../permissions.js';
import type { AuditEvent } from '../audit.js';
import type { Store } from '../store/store.js';
import { guardedFetch, netPermissionFor, type FetchInit } from './net.js';
import { classifyAddress, METADATA_HOSTS } from './address-policy.js';
import { isIP } from 'node:net';
import { fsList, fsRead, fsRealpath, fsRemove, fsStat, fsWrite, type FsContext } from './fs.js';
import { fakeFetch, type SyscallFakes } from './fakes.js';
import { hostRefusal } from './url-policy.js';
import { scanText } from '../safety/text.js';
import { execCommand, type ExecDeps, type ExecPolicy, type ExecRequest } from './exec.js';
import type { ProcessTable } from './processes.js';
import type { ApprovalRequest } from '../approvals.js';
import type { SyscallSession } from '../sandbox/sandbox.js';
import { createExtendedSyscalls, UNHANDLED, type ExtendedDeps } from './extended.js';
import type { ProviderCalls } from '../providers.js';
import { openStream } from './net-stream.js';

export const MAX_KV_KEY = 512;
export const MAX_KV_VALUE = 1024 * 1024;

export interface SyscallDeps {
  plugin: string;
  grants: readonly Permission[];
  store: Store;
  workspace: string;
  caduceusHome: string;
  pluginData: string;
  audit: (e: AuditEvent) => void;
  log: (plugin: string, level: string, message: string) => void;
  callTool: (name: string, args: unknown, caller: string) => Promise<unknown>;
  secrets: { get(name: string): string | undefined };
  /** The operator's command globs and approval mode, read when a command runs. */
  execPolicy: () => ExecPolicy;
  approve: (req: ApprovalRequest) => Promise<boolean>;
  /** Test kernels only: stand-ins for effects, applied after the permission checks. */
  fakes?: SyscallFakes | undefined;
  /** The operator's security.blockedDomains (normalised), read at each fetch; throws if the config is invalid. */
  blockedDomains?: () => readonly string[];
  /** Commands, watches, staging, probes and hook emits (extended.ts); absent in bare syscall tables. */
  extended?: ExtendedDeps;
  /** The kernel's background processes (processes.ts), for the process.* syscalls; absent, they are refused. */
  processes?: () => ProcessTable;
  /** Live provider chat calls (core/providers.ts), for the provider.* and net.stream.* syscalls. */
  providerCalls?: ProviderCalls;
}

/** `safety.scanText` input ceiling: a megabyte scans in well under 200 ms (see core/safety/text.ts). */
export const MAX_SCAN_BYTES = 1024 * 1024;

type Args = Record<string, unknown>;

export function createSyscalls(d: SyscallDeps): (name: string, args: unknown, session?: SyscallSession) => unknown {
  const has = (kind: Permission['kind']) => d.grants.some((g) => g.kind === kind);
  const kv = has('kv');
  const netHosts = d.grants.flatMap((g) => (g.kind === 'net' ? [g.host] : []));
  const secretNames = new Set(d.grants.flatMap((g) => (g.kind === 'secret' ? [g.name] : [])));
  const envNames = new Set(d.grants.flatMap((g) => (g.kind === 'env' ? [g.name] : [])));
  const toolNames = new Set(d.grants.flatMap((g) => (g.kind === 'tools.call' ? [g.tool] : [])));
  const paths = { workspace: d.workspace, pluginData: d.pluginData, caduceusHome: d.caduceusHome };
  const fsCtx: FsContext = {
    plugin: d.plugin,
    workspace: d.workspace,
    caduceusHome: d.caduceusHome,
    roots: {
      read: d.grants.flatMap((g) => (g.kind === 'fs.read' ? [expandGrantPath(g.path, paths)] : [])),
      write: d.grants.flatMap((g) => (g.kind === 'fs.write' ? [expandGrantPath(g.path, paths)] : [])),
    },
  };

  const deny = (syscall: string, permission: string): never => {
    d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin: d.plugin, outcome: 'denied', code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall, permission } });
    throw new CaduceusError('CAD_ERR_PERMISSION_DENIED',
      `Plugin '${d.plugin}' called ${syscall} without the permission '${permission}'. Run \`caduceus plugins grant ${d.plugin} ${permission}\` if it should have it.`,
      { plugin: d.plugin, details: { syscall, permission } });
  };
  const str = (args: Args, key: string, syscall: string): string => {
    const v = args[key];
    if (typeof v !== 'string') {
      throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${d.plugin}' called ${syscall} with '${key}' that is not a string.`, { plugin: d.plugin });
    }
    return v;
  };
  const guarded = <T>(syscall: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CaduceusError && ['CAD_ERR_PERMISSION_DENIED', 'CAD_ERR_FS_OUTSIDE_ROOT', 'CAD_ERR_FS_PROTECTED'].includes(err.code)) {
        d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin: d.plugin, outcome: 'denied', code: err.code, detail: { syscall } });
      }
      throw err;
    }
  };

  const execDeps = (): ExecDeps => ({ plugin: d.plugin, workspace: d.workspace, envGrants: envNames, policy: d.execPolicy, approve: d.approve, audit: d.audit });

  const providerCall = (args: Args) => {
    if (!d.providerCalls) throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${d.plugin}' used a provider syscall outside a provider call.`, { plugin: d.plugin });
    return d.providerCalls.get(args.call, d.plugin);
  };

  const extended = createExtendedSyscalls(d, fsCtx);

  return (name: string, raw: unknown, session?: SyscallSession): unknown => {
    const args = (typeof raw === 'object' && raw !== null ? raw : {}) as Args;
    switch (name) {
      case 'log': {
        const message = typeof args.message === 'string' ? args.message.slice(0, 8192) : '';
        d.log(d.plugin, typeof args.level === 'string' ? args.level : 'info', message);
        return null;
      }
      case 'kv.get': {
        if (!kv) deny(name, 'kv');
        const v = d.store.kvGet(d.plugin, kvKey(d.plugin, str(args, 'key', name)));
        return v === undefined ? null : JSON.parse(v);
      }
      case 'kv.set': {
        if (!kv) deny(name, 'kv');
        const key = kvKey(d.plugin, str(args, 'key', name));
        const text = JSON.stringify(args.value ?? null);
        const bytes = text.length * 3 > MAX_KV_VALUE ? Buffer.byteLength(text) : text.length;
        if (bytes > MAX_KV_VALUE) {
          throw new CaduceusError('CAD_ERR_KV_LIMIT', `Plugin '${d.plugin}' kv value for ${JSON.stringify(key)} is ${bytes} bytes as JSON, over the ${MAX_KV_VALUE} byte limit. Store less per key.`, { plugin: d.plugin });
        }
        d.store.kvSet(d.plugin, key, text);
        return null;
      }
      case 'kv.delete':
        if (!kv) deny(name, 'kv');
        return d.store.kvDelete(d.plugin, kvKey(d.plugin, str(args, 'key', name)));
      case 'kv.list':
        if (!kv) deny(name, 'kv');
        return d.store.kvList(d.plugin, typeof args.prefix === 'string' ? args.prefix : '', 1000);
      case 'env.get': {
        const envName = str(args, 'name', name);
        if (!envNames.has(envName)) deny(name, `env:${envName}`);
        return (d.fakes?.env ?? process.env)[envName] ?? null;
      }
      case 'secrets.get': {
        const secret = str(args, 'name', name);
        if (!secretNames.has(secret)) deny(name, `secret:${secret}`);
        const value = d.fakes?.secrets ? d.fakes.secrets[secret] : d.secrets.get(secret);
        // Which plugin read which secret is audited; the value never is.
        d.audit({ ts: Date.now(), kind: 'secret.read', plugin: d.plugin, outcome: 'ok', detail: { name: secret, found: value !== undefined } });
        return value ?? null;
      }
      case 'net.fetch': {
        const url = str(args, 'url', name);
        const blockedDomains = d.blockedDomains?.() ?? [];
        if (netHosts.length === 0) {
          // A metadata endpoint is refused as such: advising a grant that could never work would mislead.
          if (isMetadataUrl(url)) {
            d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin: d.plugin, outcome: 'denied', code: 'CAD_ERR_NET_BLOCKED', detail: { syscall: name, url } });
            throw new CaduceusError('CAD_ERR_NET_BLOCKED', `Plugin '${d.plugin}' may not fetch ${JSON.stringify(url)}: it is a cloud metadata endpoint, never allowed.`, { plugin: d.plugin, details: { url } });
          }
          // So is a blocked domain, for the same reason.
          const refusal = blockedDomains.length ? blockedRefusal(url, blockedDomains) : undefined;
          if (refusal) {
            d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin: d.plugin, outcome: 'denied', code: 'CAD_ERR_NET_BLOCKED', detail: { syscall: name, url, blockedBy: refusal.entry } });
            throw new CaduceusError('CAD_ERR_NET_BLOCKED', `Plugin '${d.plugin}' may not fetch ${JSON.stringify(url)}: ${refusal.why}.`, { plugin: d.plugin, details: { url, blockedBy: refusal.entry } });
          }
          deny(name, safePermission(url));
        }
        const init = (args.init ?? {}) as FetchInit;
        const fetched = d.fakes?.fetch ? fakeFetch(d.plugin, netHosts, url, init, d.fakes.fetch, blockedDomains) : guardedFetch(d.plugin, netHosts, url, init, blockedDomains);
        return fetched.catch((err: unknown) => {
          if (err instanceof CaduceusError && (err.code === 'CAD_ERR_PERMISSION_DENIED' || err.code === 'CAD_ERR_NET_BLOCKED')) {
            const blockedBy = err.details?.blockedBy;
            d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin: d.plugin, outcome: 'denied', code: err.code, detail: blockedBy !== undefined ? { syscall: name, url, blockedBy } : err.code === 'CAD_ERR_PERMISSION_DENIED' ? { syscall: name, url, permission: safePermission(url) } : { syscall: name, url } });
          }
          throw err;
        });
      }
      case 'provider.emit':
        return providerCall(args).emit(args.event);
      case 'provider.cancelled':
        return providerCall(args).cancelled;
      case 'net.stream.open': {
        const call = providerCall(args);
        const url = str(args, 'url', name);
        if (netHosts.length === 0) deny(name, safePermission(url));
        if (call.cancelled) throw call.cancelError();
        const init = (args.init ?? {}) as FetchInit;
        return openStream(d.plugin, netHosts, url, init, d.blockedDomains?.() ?? []).then(({ head, stream }) => ({ ...head, handle: call.addStream(stream) }), (err: unknown) => {
          if (err instanceof CaduceusError && (err.code === 'CAD_ERR_PERMISSION_DENIED' || err.code === 'CAD_ERR_NET_BLOCKED')) {
            d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin: d.plugin, outcome: 'denied', code: err.code, detail: { syscall: name, url } });
          }
          throw err;
        });
      }
      case 'net.stream.read':
        return providerCall(args).stream(args.handle).read();
      case 'net.stream.close':
        providerCall(args).closeStream(args.handle);
        return null;
      case 'fs.read':
        return guarded(name, () => fsRead(fsCtx, str(args, 'path', name)));
      case 'fs.write':
        return guarded(name, () => fsWrite(fsCtx, str(args, 'path', name), str(args, 'content', name)));
      case 'fs.list':
        return guarded(name, () => fsList(fsCtx, str(args, 'path', name)));
      case 'fs.stat':
        return guarded(name, () => fsStat(fsCtx, str(args, 'path', name)));
      case 'fs.remove':
        return guarded(name, () => fsRemove(fsCtx, str(args, 'path', name)));
      case 'fs.realpath':
        return guarded(name, () => fsRealpath(fsCtx, str(args, 'path', name)));
      case 'exec': {
        if (!has('exec')) deny(name, 'exec');
        return execCommand(execDeps(), args as unknown as ExecRequest);
      }
      case 'process.start':
      case 'process.list':
      case 'process.poll':
      case 'process.kill': {
        if (!has('exec')) deny(name, 'exec');
        if (!d.processes) throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${d.plugin}' called ${name}, but this kernel runs no background processes.`, { plugin: d.plugin });
        const table = d.processes();
        if (name === 'process.start') {
          const { command, ...opts } = args;
          return table.start(execDeps(), command, opts as { cwd?: string; timeoutMs?: number; input?: string });
        }
        if (name === 'process.list') return table.list(d.plugin);
        if (name === 'process.poll') return table.poll(d.plugin, args.id, args.waitMs);
        return table.kill(d.plugin, args.id);
      }
      case 'safety.scanText': {
        // A host service with no effect, so no permission: the plugin learns only what it passed in.
        const text = str(args, 'text', name);
        const bytes = text.length * 3 > MAX_SCAN_BYTES ? Buffer.byteLength(text) : text.length;
        if (bytes > MAX_SCAN_BYTES) {
          throw new CaduceusError('CAD_ERR_SYSCALL_INVALID',
            `Plugin '${d.plugin}' passed safety.scanText ${bytes} bytes, over the ${MAX_SCAN_BYTES} byte limit. Scan the text in pieces of at most 1 MiB.`,
            { plugin: d.plugin, details: { syscall: name, bytes } });
        }
        return scanText(text);
      }
      case 'tools.call': {
        const tool = str(args, 'name', name);
        if (!toolNames.has(tool)) deny(name, `tools.call:${tool}`);
        const fake = d.fakes?.tools?.[tool];
        if (fake) return Promise.resolve().then(() => fake(args.args ?? {}));
        return d.callTool(tool, args.args ?? {}, `plugin:${d.plugin}`);
      }
      default: {
        const out = extended(name, args, session);
        if (out !== UNHANDLED) return out;
        throw new CaduceusError('CAD_ERR_SYSCALL_UNKNOWN', `Plugin '${d.plugin}' called unknown syscall ${JSON.stringify(name)}. Use the host API from caduceus/sdk.`, { plugin: d.plugin });
      }
    }
  };
}

function kvKey(plugin: string, key: string): string {
  if (key.length === 0 || Buffer.byteLength(key) > MAX_KV_KEY) {
    throw new CaduceusError('CAD_ERR_KV_LIMIT', `Plugin '${plugin}' kv key must be 1 to ${MAX_KV_KEY} bytes, got ${Buffer.byteLength(key)}.`, { plugin });
  }
  return key;
}

function blockedRefusal(url: string, blockedDomains: readonly string[]): { why: string; entry?: string } | undefined {
  try {
    const refusal = hostRefusal(new URL(url), blockedDomains);
    return refusal?.rule === 'blocked-domain' ? refusal : undefined;
  } catch {
    return undefined;
  }
}

function isMetadataUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return METADATA_HOSTS.has(host) || (isIP(host) !== 0 && classifyAddress(host) === 'metadata');
  } catch {
    return false;
  }
}

function safePermission(url: string): string {
  try {
    return netPermissionFor(new URL(url));
  } catch {
    return 'net:<host>';
  }
}
