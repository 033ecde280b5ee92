/**
 * The tool-call pipeline: lookup → status → trust class → args validated against inputSchema →
 * beforeToolCall (guards first by stage; timeout or error = deny) → approval hook if asked → invoke in the
 * plugin's isolate (timeout, watchdog, size cap), or through the tool's source (an MCP server: timeout, size
 * cap) → result validated → afterToolCall → audit row, always.
 * A failure comes back as a structured, coded error, never as an exception that ends a turn.
 */
import { CaduceusError, type CodedErrorShape } from './errors.js';
import { digest } from './audit.js';
import { compileSchema, describeErrors } from './validate.js';
import type { Kernel } from './kernel.js';
import type { TrustClass } from './manifest/schema.js';
import type { ToolView } from './registry.js';
import type { AuditOutcome } from './audit.js';

export interface CallOptions {
  /** Trust class of the caller (`operator`, `model`, …) or `plugin:<id>`. */
  caller: string;
  /** The agent session the call belongs to (the runner sets it); handlers see it as `call.sessionId`. */
  session?: string;
}

export type ToolCallResult =
  | { ok: true; tool: string; plugin: string; result: unknown; durationUs: number }
  | { ok: false; tool: string; plugin?: string; error: CodedErrorShape; durationUs: number };

/** "plugin 'x'" or "MCP server 'y'", for messages. */
function ownerOf(view: ToolView): string {
  return view.origin === 'mcp' && view.mcp ? `MCP server '${view.mcp.server}'` : `plugin '${view.plugin}'`;
}

function trustClassOf(caller: string): TrustClass {
  return (caller.startsWith('plugin:') ? 'plugin' : caller) as TrustClass;
}

export async function runToolCall(k: Kernel, name: string, args: unknown, opts: CallOptions): Promise<ToolCallResult> {
  const t0 = performance.now();
  let view = k.toolView(name);
  // A name nothing lists may belong to an MCP server this kernel has not connected yet (core/tool-source.ts).
  if (!view && await k.toolSources.lookupMissed(name)) view = k.toolView(name);
  const plugin = view?.plugin;
  let argsJson = '';
  let resultJson: string | undefined;
  let outcome: AuditOutcome = 'ok';
  let error: CaduceusError | undefined;
  let result: unknown;
  try {
    if (!view) {
      throw new CaduceusError('CAD_ERR_TOOL_NOT_FOUND', `No enabled plugin or MCP server contributes a tool named ${JSON.stringify(name)}. Run \`caduceus tools list\` to see tool names.`, { tool: name });
    }
    // A struck-out plugin's tools list as disabled; callers get the strike-out code itself, so they can
    // tell "failed repeatedly, restart needed" from a tool that is merely not configured.
    const struck = k.strikeErrorOf(view.plugin);
    if (struck) {
      throw new CaduceusError('CAD_ERR_PLUGIN_STRUCK_OUT', struck.message, { tool: name, plugin: view.plugin, details: struck.details });
    }
    if (view.status !== 'available' && view.status !== 'degraded') {
      throw new CaduceusError('CAD_ERR_TOOL_UNAVAILABLE',
        `Tool '${name}' of ${ownerOf(view)} is ${view.status}: ${view.reason}. Fix: ${view.fix}.`, { tool: name, plugin: view.plugin, details: { status: view.status } });
    }
    if (!view.trustClasses.includes(trustClassOf(opts.caller))) {
      throw new CaduceusError('CAD_ERR_TOOL_TRUST',
        `Tool '${name}' of ${ownerOf(view)} may not be called by '${opts.caller}' (allowed: ${view.trustClasses.join(', ')}).`, { tool: name, plugin: view.plugin });
    }
    // Visibility `operator` means the CLI and the API only: never a model, nor an MCP client (which is usually one).
    if (view.visibility !== 'prompt' && (opts.caller === 'model' || opts.caller === 'mcp-client')) {
      throw new CaduceusError('CAD_ERR_TOOL_TRUST',
        `Tool '${name}' of ${ownerOf(view)} has visibility "operator", so '${opts.caller}' may not call it; only operators, plugins and API clients may.`, { tool: name, plugin: view.plugin });
    }
    const validate = compileSchema(view.inputSchema);
    if (!validate(args)) {
      throw new CaduceusError('CAD_ERR_TOOL_ARGS_INVALID',
        `Tool '${name}' of ${ownerOf(view)}: ${describeErrors(validate.errors)}. See the inputSchema in \`caduceus tools list --json\`.`,
        { tool: name, plugin: view.plugin, details: { errors: validate.errors } });
    }
    argsJson = JSON.stringify(args);
    if (k.hooks.beforeToolCall.isUsed()) {
      const verdict = await k.hooks.beforeToolCall.promise({ tool: name, plugin: view.plugin, args, caller: opts.caller, mutating: view.mutating });
      if (verdict && verdict.verdict === 'deny') {
        outcome = 'denied';
        throw new CaduceusError('CAD_ERR_TOOL_DENIED', `Tool '${name}' was denied by a guard: ${verdict.reason}`, { tool: name, plugin: view.plugin });
      }
      if (verdict && verdict.verdict === 'ask') {
        // Asked through the approval hook (see approvals.ts), so any front end that can ask answers it.
        const approved = await k.approve({ kind: 'tool', subject: name, question: verdict.question, caller: opts.caller, plugin: view.plugin, tool: name });
        if (!approved) {
          outcome = 'denied';
          throw new CaduceusError('CAD_ERR_TOOL_DENIED',
            `Tool '${name}' needs approval (${verdict.question}) and it was not given: refused, or nothing could ask (security.approvals.mode is "${(await import('./approvals.js')).approvalMode(k)}"). Run it from a terminal to be asked, or allow it in the guard's config.`, { tool: name, plugin: view.plugin });
        }
      }
    }
    result = view.origin === 'plugin'
      ? await k.runtimeFor(view.plugin).invoke('tool', name, argsJson, {
        timeoutMs: view.timeoutMs, maxBytes: view.maxResultBytes, thrownCode: 'CAD_ERR_TOOL_FAILED', tool: name,
        caller: opts.caller, sessionId: opts.session,
      })
      : await k.toolSources.invoke(view, args, { timeoutMs: view.timeoutMs, maxBytes: view.maxResultBytes, caller: opts.caller, sessionId: opts.session });
    if (view.resultSchema) {
      const check = compileSchema(view.resultSchema);
      if (!check(result)) {
        throw new CaduceusError('CAD_ERR_TOOL_RESULT_INVALID',
          `Tool '${name}' of ${ownerOf(view)} returned a result that breaks its resultSchema: ${describeErrors(check.errors)}.`, { tool: name, plugin: view.plugin });
      }
    }
    if (k.hooks.afterToolCall.isUsed()) {
      const after = await k.hooks.afterToolCall.promise({ tool: name, plugin: view.plugin, caller: opts.caller, result });
      result = after.result;
    }
    resultJson = JSON.stringify(result ?? null);
  } catch (err) {
    error = err instanceof CaduceusError ? err : new CaduceusError('CAD_ERR_TOOL_FAILED', `Tool '${name}' failed: ${(err as Error)?.message ?? String(err)}`, { tool: name, plugin });
    if (outcome === 'ok') {
      outcome = error.code === 'CAD_ERR_SANDBOX_TIMEOUT' || error.code === 'CAD_ERR_MCP_TIMEOUT' ? 'timeout'
        : error.code === 'CAD_ERR_SANDBOX_MEMORY' || error.code === 'CAD_ERR_SANDBOX_CRASHED' || error.code === 'CAD_ERR_MCP_SERVER_EXITED' ? 'crash'
          : error.code === 'CAD_ERR_TOOL_DENIED' || error.code === 'CAD_ERR_TOOL_TRUST' ? 'denied' : 'error';
    }
  }
  const durationUs = Math.round((performance.now() - t0) * 1000);
  k.audit({
    ts: Date.now(),
    kind: 'tool.call',
    plugin,
    tool: name,
    caller: opts.caller,
    outcome,
    code: error?.code,
    durationUs,
    argsDigest: argsJson ? digest(argsJson) : undefined,
    resultDigest: resultJson === undefined ? undefined : digest(resultJson),
    detail: error ? (opts.session ? { message: error.message.slice(0, 500), session: opts.session } : { message: error.message.slice(0, 500) }) : opts.session ? { session: opts.session } : undefined,
  });
  if (error) {
    const shape = error.toJSON();
    if (k.hooks.toolError.isUsed()) {
      k.hooks.toolError.promise({ tool: name, plugin, caller: opts.caller, error: shape }).catch(() => undefined);
    }
    return plugin === undefined ? { ok: false, tool: name, error: shape, durationUs } : { ok: false, tool: name, plugin, error: shape, durationUs };
  }
  return { ok: true, tool: name, plugin: plugin!, result, durationUs };
}
