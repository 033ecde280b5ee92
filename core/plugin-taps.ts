/**
 * Taps kernel hooks on behalf of plugins. Each enabled plugin's declared hooks (`contributes.hooks`) get
 * one host tap, named `plugin:<id>` by the kernel and ordered by the declared stage; the tap activates
 * the plugin on first use and calls its handler in the isolate with a timeout and the hook's fail policy:
 * beforeToolCall and pluginLoad fail closed (a timeout or error denies/vetoes); the others fail open
 * (the value passes through unchanged and an audit row records the failure).
 */
import { CaduceusError } from './errors.js';
import { STAGE } from './hook-names.js';
import type { Hooks, PromptSection, SlashCommandInfo, SlashCommandResult, Verdict } from './hooks.js';
import type { Kernel } from './kernel.js';
import type { Manifest } from './manifest/schema.js';
import type { ToolView } from './registry.js';

export const HOOK_TIMEOUT_MS = 2_000;
const HOOK_MAX_BYTES = 4 * 1024 * 1024;

export function tapPluginHooks(k: Kernel, hooks: Hooks, m: Manifest): void {
  const id = m.id;
  // Taps cannot be removed from a tapable hook, so a tap outlives a disable in a long-lived kernel;
  // it then steps aside (returns "no opinion" / passes the value through) until re-enabled.
  for (const h of m.contributes.hooks) {
    // A hot reload may drop a hook the tap was made for; the tap then steps aside like a disabled one.
    const live = () => k.isEnabled(id) && k.plugin(id).manifest.contributes.hooks.some((d) => d.name === h.name && d.scope === h.scope);
    const options = { name: `plugin:${id}`, stage: STAGE[h.stage] };
    const call = async (payload: unknown): Promise<unknown> => {
      const rt = k.activeRuntime(id) ?? await k.activate(id);
      return rt.invoke('hook', h.name, JSON.stringify(payload), {
        timeoutMs: HOOK_TIMEOUT_MS, maxBytes: HOOK_MAX_BYTES, thrownCode: 'CAD_ERR_HOOK_FAILED', hook: h.name,
      });
    };
    const failed = (err: unknown): CaduceusError => {
      const e = err instanceof CaduceusError
        ? (err.code === 'CAD_ERR_SANDBOX_TIMEOUT'
          ? new CaduceusError('CAD_ERR_HOOK_TIMEOUT', `Plugin '${id}' hook '${h.name}' did not answer within ${HOOK_TIMEOUT_MS} ms; its isolate was disposed. Make the handler answer sooner.`, { plugin: id, hook: h.name })
          : err)
        : new CaduceusError('CAD_ERR_HOOK_FAILED', `Plugin '${id}' hook '${h.name}' failed: ${String(err)}`, { plugin: id, hook: h.name });
      k.audit({ ts: Date.now(), kind: 'hook.error', plugin: id, outcome: 'error', code: e.code, detail: { hook: h.name, message: e.message.slice(0, 500) } });
      return e;
    };
    switch (h.name) {
      case 'beforeToolCall': {
        // A tool-scoped guard is asked once per (tool, caller) for each running isolate, and never sees
        // arguments; the cache dies with the isolate, so a restart or re-enable asks again.
        const cache = new Map<string, Verdict | undefined>();
        let cachedFor: unknown;
        hooks.beforeToolCall.tapPromise(options, async (info): Promise<Verdict | undefined> => {
          if (!live()) return undefined;
          try {
            if (h.scope !== 'tool') return toVerdict(await call(info), id);
            const token = k.activeRuntime(id)?.isolateToken();
            if (token !== cachedFor) {
              cache.clear();
              cachedFor = token;
            }
            const key = `${info.tool}\0${info.caller}`;
            if (token && cache.has(key)) return cache.get(key);
            const verdict = toVerdict(await call({ tool: info.tool, plugin: info.plugin, caller: info.caller, mutating: info.mutating }), id);
            // Cache under the isolate that answered (the call may have started or restarted it).
            const answered = k.activeRuntime(id)?.isolateToken();
            if (answered !== cachedFor) {
              cache.clear();
              cachedFor = answered;
            }
            if (answered) cache.set(key, verdict);
            return verdict;
          } catch (err) {
            const e = failed(err);
            return { verdict: 'deny', reason: `guard '${id}' failed (${e.code}), so the call is denied (fail closed): ${e.message}` };
          }
        });
        break;
      }
      case 'pluginLoad':
        hooks.pluginLoad.tapPromise(options, async (info) => {
          if (info.id === id || !live()) return undefined;
          try {
            const out = await call(info) as { veto?: unknown } | null | undefined;
            return out && typeof out.veto === 'string' ? { veto: `${out.veto} (veto by '${id}')` } : undefined;
          } catch (err) {
            return { veto: `plugin '${id}' failed while checking the load, so it is refused (fail closed): ${failed(err).message}` };
          }
        });
        break;
      case 'resolveTools':
        hooks.resolveTools.tapPromise(options, async (tools) => {
          if (!live()) return tools;
          try {
            const out = await call(tools);
            if (!Array.isArray(out)) throw new CaduceusError('CAD_ERR_HOOK_FAILED', `Plugin '${id}' resolveTools must return an array of tools.`, { plugin: id, hook: h.name });
            // A plugin may drop or reorder tools, never invent one or revive an unavailable one.
            const known = new Map(tools.map((t) => [t.name, t]));
            return out.flatMap((t: { name?: unknown }) => (typeof t?.name === 'string' && known.has(t.name) ? [known.get(t.name) as ToolView] : []));
          } catch (err) {
            failed(err);
            return tools;
          }
        });
        break;
      case 'afterToolCall':
        hooks.afterToolCall.tapPromise(options, async (info) => {
          if (!live()) return info;
          try {
            const out = await call(info) as { result?: unknown } | null;
            return out && typeof out === 'object' && 'result' in out ? { ...info, result: out.result } : info;
          } catch (err) {
            failed(err);
            return info;
          }
        });
        break;
      case 'buildPrompt':
        hooks.buildPrompt.tapPromise(options, async (prompt) => {
          if (!live()) return prompt;
          try {
            const out = await call(prompt) as { sections?: unknown } | null | undefined;
            if (out === null || out === undefined) return prompt;
            return { ...prompt, sections: checkSections(out.sections, id) };
          } catch (err) {
            failed(err);
            return prompt;
          }
        });
        break;
      case 'resolveCommands':
        hooks.resolveCommands.tapPromise(options, async (commands) => {
          if (!live()) return commands;
          try {
            const out = await call(commands);
            if (!Array.isArray(out)) throw new CaduceusError('CAD_ERR_HOOK_FAILED', `Plugin '${id}' resolveCommands must return an array of commands.`, { plugin: id, hook: h.name });
            // A plugin may add its own commands; the ones already there keep their owner whatever it returns.
            const known = new Map(commands.map((c) => [c.name, c]));
            const next = new Map<string, SlashCommandInfo>();
            for (const c of out as { name?: unknown; description?: unknown }[]) {
              if (typeof c?.name !== 'string' || !COMMAND_NAME.test(c.name) || next.has(c.name)) continue;
              next.set(c.name, known.get(c.name) ?? { name: c.name, description: typeof c.description === 'string' ? c.description.slice(0, 300) : '', plugin: id });
            }
            return [...next.values()];
          } catch (err) {
            failed(err);
            return commands;
          }
        });
        break;
      case 'runCommand':
        hooks.runCommand.tapPromise(options, async (cmd) => {
          if (!live()) return undefined;
          try {
            const out = await call(cmd) as { message?: unknown; print?: unknown } | null | undefined;
            if (!out || typeof out !== 'object') return undefined;
            const answer: SlashCommandResult = {};
            if (typeof out.message === 'string') answer.message = out.message;
            if (typeof out.print === 'string') answer.print = out.print;
            return answer.message === undefined && answer.print === undefined ? undefined : answer;
          } catch (err) {
            const e = failed(err);
            return { print: `/${cmd.name} failed in plugin '${id}': ${e.message}` };
          }
        });
        break;
      case 'sessionStart':
      case 'sessionEnd':
      case 'skillsChanged':
      case 'pluginLoaded':
      case 'pluginUnloaded':
      case 'toolError':
        (hooks[h.name] as { tapPromise: (o: object, fn: (p: unknown) => Promise<void>) => void }).tapPromise(options, async (payload: unknown) => {
          if (!live() || (h.name !== 'toolError' && (payload as { id?: string }).id === id)) return;
          try {
            await call(payload);
          } catch (err) {
            failed(err);
          }
        });
        break;
    }
  }
}

const COMMAND_NAME = /^[a-z0-9][a-z0-9_.:-]{0,63}$/;
const MAX_SECTION_CHARS = 64 * 1024;

/** A buildPrompt answer's sections, checked: ids unique, text capped, nothing but the known fields. */
function checkSections(raw: unknown, id: string): PromptSection[] {
  if (!Array.isArray(raw)) throw new CaduceusError('CAD_ERR_HOOK_FAILED', `Plugin '${id}' buildPrompt must return the prompt with a sections array.`, { plugin: id, hook: 'buildPrompt' });
  const seen = new Set<string>();
  const out: PromptSection[] = [];
  for (const s of raw as Record<string, unknown>[]) {
    if (typeof s?.id !== 'string' || typeof s.text !== 'string' || seen.has(s.id)) {
      throw new CaduceusError('CAD_ERR_HOOK_FAILED', `Plugin '${id}' buildPrompt returned a section without a unique string id and text.`, { plugin: id, hook: 'buildPrompt' });
    }
    seen.add(s.id);
    const section: PromptSection = { id: s.id, text: s.text.slice(0, MAX_SECTION_CHARS), stable: s.stable === true };
    if (typeof s.title === 'string') section.title = s.title.slice(0, 200);
    out.push(section);
  }
  return out;
}

function toVerdict(out: unknown, id: string): Verdict | undefined {
  if (out === undefined || out === null) return undefined;
  const v = out as { verdict?: unknown; reason?: unknown; question?: unknown };
  if (v.verdict === 'allow') return undefined;
  if (v.verdict === 'deny') return { verdict: 'deny', reason: `${typeof v.reason === 'string' ? v.reason : 'no reason given'} (guard '${id}')` };
  if (v.verdict === 'ask') return { verdict: 'ask', question: typeof v.question === 'string' ? v.question : `Allow this call? (asked by '${id}')` };
  return { verdict: 'deny', reason: `guard '${id}' answered ${JSON.stringify(out).slice(0, 100)}, which is not a verdict, so the call is denied (fail closed)` };
}
