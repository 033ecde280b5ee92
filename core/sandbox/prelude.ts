/**
 * The kernel's runtime inside every plugin isolate. It runs before the plugin bundle, captures the
 * intrinsics it relies on (so a plugin that overwrites JSON or Promise only breaks itself), removes
 * WebAssembly/SharedArrayBuffer unless granted (and caps WebAssembly memory when it is: wasm-cap.ts),
 * and exposes three entry points the host holds references to: `boot`, `dispatch` and `resolveSys`. Everything crosses as JSON strings on isolated-vm's
 * synchronous path; async handlers settle through the host's `settle` callback.
 *
 * This function is serialised with toString(), so it must not reference anything outside itself; the
 * wasm cap arrives as an argument for the same reason.
 */
export function prelude(
  bridge: { sys: (name: string, args: string) => string; settle: (id: number, reply: string) => void },
  opts: { pluginId: string; wasm: boolean; memoryMb: number; config: unknown },
  capWasmMemory: (wasm: Record<string, unknown>, budgetPages: number) => void,
): { boot: () => string; dispatch: (kind: string, name: string, args: string, id: number, maxChars: number, caller: string, sessionId: string) => string; resolveSys: (req: number, reply: string) => void; callback: (channel: number, payload: string) => void } {
  const G = globalThis as Record<string, unknown>;
  const stringify = JSON.stringify;
  const parse = JSON.parse;
  const PromiseCtor = Promise;
  const ErrorCtor = Error;
  const MapCtor = Map;
  const isArray = Array.isArray;
  const freeze = Object.freeze;
  if (!opts.wasm) delete G.WebAssembly;
  else if (G.WebAssembly) capWasmMemory(G.WebAssembly as Record<string, unknown>, Math.floor(opts.memoryMb * 16));
  delete G.SharedArrayBuffer;


  const tools = new MapCtor<string, (args: unknown, ctx: unknown, call: unknown) => unknown>();
  const taps = new MapCtor<string, Array<(payload: unknown) => unknown>>();
  const providers = new MapCtor<string, (request: unknown, ctx: unknown, stream: unknown) => unknown>();
  const commands = new MapCtor<string, (argv: unknown, ctx: unknown, io: unknown) => unknown>();
  // Listeners the host calls back outside any call (file watches), keyed by the channel the host chose.
  const callbacks = new MapCtor<number, (payload: unknown) => unknown>();
  const pendingSys = new MapCtor<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  function describe(v: unknown): string {
    try {
      if (typeof v === 'symbol') return v.toString();
      if (typeof v === 'string') return stringify(v);
      if (v === null || typeof v !== 'object') return String(v);
      return stringify(v)?.slice(0, 200) ?? String(v);
    } catch {
      return '[unprintable]';
    }
  }

  // Must never throw: a plugin can throw a Proxy whose every trap throws, or an Error whose message
  // getter throws, and an exception escaping here would take the whole isolate down with it.
  function normalise(e: unknown): { name: string; message: string; code?: string; stack?: string; details?: unknown } {
    try {
      return readError(e);
    } catch {
      return { name: 'NonError', message: 'plugin threw a value that cannot be read (its properties throw)' };
    }
  }

  function readError(e: unknown): { name: string; message: string; code?: string; stack?: string; details?: unknown } {
    if (e instanceof ErrorCtor) {
      const out: { name: string; message: string; code?: string; stack?: string; details?: unknown } = { name: String(e.name), message: String(e.message) };
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string') out.code = code;
      if (typeof e.stack === 'string') out.stack = e.stack.slice(0, 2000);
      // Plain data only (a provider's retryAfterMs, an HTTP status): copied through JSON and capped.
      const details = (e as { details?: unknown }).details;
      if (details !== null && typeof details === 'object') {
        const text = stringify(details);
        if (typeof text === 'string' && text.length <= 2048) out.details = parse(text);
      }
      return out;
    }
    if (typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string') {
      const code = (e as { code?: unknown }).code;
      return typeof code === 'string' ? { name: 'Error', message: (e as { message: string }).message, code } : { name: 'Error', message: (e as { message: string }).message };
    }
    return { name: 'NonError', message: `plugin threw a non-Error value: ${describe(e)}` };
  }

  function encodeOk(value: unknown, maxChars: number): string {
    let text: string | undefined;
    try {
      text = stringify({ ok: value === undefined ? null : value });
    } catch (e) {
      return stringify({ err: { name: 'TypeError', message: `result is not JSON-serialisable: ${normalise(e).message}` } });
    }
    if (text === undefined) return '{"ok":null}';
    if (text.length > maxChars) return stringify({ tooLarge: text.length });
    return text;
  }

  function encodeErr(e: unknown): string {
    return stringify({ err: normalise(e) });
  }

  function sys(name: string, args: unknown): Promise<unknown> {
    let reply: { ok?: unknown; err?: { code: string; message: string }; pending?: number };
    try {
      reply = parse(bridge.sys(name, stringify(args === undefined ? null : args)));
    } catch (e) {
      return PromiseCtor.reject(e);
    }
    if (reply.pending !== undefined) {
      const req = reply.pending;
      return new PromiseCtor((resolve, reject) => pendingSys.set(req, { resolve, reject }));
    }
    if (reply.err) return PromiseCtor.reject(toError(reply.err));
    return PromiseCtor.resolve(reply.ok);
  }

  function sysNow(name: string, args: unknown): unknown {
    const reply = parse(bridge.sys(name, stringify(args === undefined ? null : args))) as { ok?: unknown; err?: { code: string; message: string } };
    if (reply.err) throw toError(reply.err);
    return reply.ok;
  }

  function toError(shape: { code: string; message: string }): Error {
    const err = new ErrorCtor(shape.message) as Error & { code: string };
    err.code = shape.code;
    return err;
  }

  const hookNames = ['pluginLoad', 'pluginLoaded', 'pluginUnloaded', 'resolveTools', 'beforeToolCall', 'afterToolCall', 'toolError',
    'buildPrompt', 'sessionStart', 'sessionEnd', 'resolveCommands', 'runCommand', 'skillsChanged'];
  const hooks: Record<string, { tap: (fn: (payload: unknown) => unknown) => void }> = {};
  for (const name of hookNames) {
    hooks[name] = freeze({
      tap(fn: (payload: unknown) => unknown) {
        if (typeof fn !== 'function') throw new TypeError(`hooks.${name}.tap needs a function`);
        const list = taps.get(name) ?? [];
        list.push(fn);
        taps.set(name, list);
      },
    });
  }

  const deepFreeze = (v: unknown): unknown => {
    if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
      freeze(v);
    }
    return v;
  };
  const host = freeze({
    pluginId: opts.pluginId,
    config: deepFreeze(opts.config ?? {}),
    log: freeze({
      debug: (...a: unknown[]) => void sys('log', { level: 'debug', message: a.map(describeLog).join(' ') }),
      info: (...a: unknown[]) => void sys('log', { level: 'info', message: a.map(describeLog).join(' ') }),
      warn: (...a: unknown[]) => void sys('log', { level: 'warn', message: a.map(describeLog).join(' ') }),
      error: (...a: unknown[]) => void sys('log', { level: 'error', message: a.map(describeLog).join(' ') }),
    }),
    kv: freeze({
      get: (key: string) => sys('kv.get', { key }),
      set: (key: string, value: unknown) => sys('kv.set', { key, value }),
      delete: (key: string) => sys('kv.delete', { key }),
      list: (prefix?: string) => sys('kv.list', { prefix: prefix ?? '' }),
    }),
    fetch: (url: string, init?: unknown) => sys('net.fetch', { url, init: init ?? {} }),
    fs: freeze({
      read: (path: string) => sys('fs.read', { path }),
      write: (path: string, content: string) => sys('fs.write', { path, content }),
      list: (path: string) => sys('fs.list', { path }),
      stat: (path: string) => sys('fs.stat', { path }),
      remove: (path: string) => sys('fs.remove', { path }),
      realpath: (path: string) => sys('fs.realpath', { path }),
      removeDir: (path: string) => sys('fs.removeDir', { path }),
      watch: (path: string, listener: unknown, options?: unknown) => {
        try {
          if (typeof listener !== 'function') throw new TypeError('ctx.fs.watch needs a listener function');
          // Synchronous, so the listener is in place before the host can deliver anything.
          const w = sysNow('fs.watch', { path, options: options ?? {} }) as { id: number; path: string; mode: string };
          callbacks.set(w.id, listener as (payload: unknown) => unknown);
          return PromiseCtor.resolve(freeze({
            id: w.id,
            path: w.path,
            mode: w.mode,
            close: () => {
              callbacks.delete(w.id);
              return sys('fs.unwatch', { id: w.id });
            },
          }));
        } catch (e) {
          return PromiseCtor.reject(e);
        }
      },
      stage: (path: string) => sys('fs.stage', { path }),
      skillDirs: () => sys('fs.skillDirs', {}),
    }),
    probe: (req: unknown) => sys('host.probe', req ?? {}),
    emit: (hook: string, payload: unknown) => sys('hooks.emit', { hook, payload }),
    env: freeze({ get: (name: string) => sys('env.get', { name }) }),
    secrets: freeze({ get: (name: string) => sys('secrets.get', { name }) }),
    exec: (command: string, opts?: Record<string, unknown>) => sys('exec', { ...(opts ?? {}), command }),
    processes: freeze({
      start: (command: string, opts?: Record<string, unknown>) => sys('process.start', { ...(opts ?? {}), command }),
      list: () => sys('process.list', {}),
      poll: (id: string, opts?: { waitMs?: unknown }) => sys('process.poll', { id, waitMs: opts?.waitMs }),
      kill: (id: string) => sys('process.kill', { id }),
    }),
    tools: freeze({ call: (name: string, args: unknown) => sys('tools.call', { name, args }) }),
    safety: freeze({ scanText: (text: string) => sys('safety.scanText', { text }) }),
    clock: freeze({ now: () => Date.now() }),
    hooks: freeze(hooks),
  });

  function describeLog(v: unknown): string {
    return typeof v === 'string' ? v : describe(v);
  }

  // A provider call streams: events leave through a synchronous syscall as they are produced, and the
  // streaming fetch is tied to the host's call id, so a cancel on the host closes it.
  function runProvider(name: string, payload: { call: string; request: unknown }, id: number, maxChars: number): string {
    const chat = providers.get(name);
    if (!chat) return stringify({ err: { name: 'Error', message: `provider ${name} is not registered` } });
    const call = payload.call;
    const syncSys = (sysName: string, args: unknown): unknown => {
      const reply = parse(bridge.sys(sysName, stringify(args))) as { ok?: unknown; err?: { code: string; message: string } };
      if (reply.err) throw toError(reply.err);
      return reply.ok;
    };
    const openResponse = (head: { handle: number; status: number; statusText: string; headers: Record<string, string>; url: string }) => freeze({
      status: head.status,
      statusText: head.statusText,
      headers: head.headers,
      url: head.url,
      read: () => sys('net.stream.read', { call, handle: head.handle }),
      text: async () => {
        let out = '';
        for (let c = await sys('net.stream.read', { call, handle: head.handle }); c !== null; c = await sys('net.stream.read', { call, handle: head.handle })) out += c as string;
        return out;
      },
      cancel: () => sys('net.stream.close', { call, handle: head.handle }).then(() => undefined),
    });
    const stream = freeze({
      emit: (event: unknown) => syncSys('provider.emit', { call, event }) === true,
      cancelled: () => syncSys('provider.cancelled', { call }) === true,
      fetch: (url: string, init?: unknown) => sys('net.stream.open', { call, url, init: init ?? {} })
        .then((head) => openResponse(head as { handle: number; status: number; statusText: string; headers: Record<string, string>; url: string })),
    });
    try {
      const value = chat(payload.request, host, stream);
      if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
        return settleLater(id, PromiseCtor.resolve(value), maxChars);
      }
      return encodeOk(value, maxChars);
    } catch (e) {
      return encodeErr(e);
    }
  }

  // A CLI command (`caduceus <name> ...`): io.print/io.error are synchronous syscalls, so output reaches
  // the terminal as it is produced; the run token ties them to this run on the host.
  function runCommand(name: string, payload: { argv: unknown; json: unknown; run: unknown }, id: number, maxChars: number): string {
    const run = commands.get(name);
    if (!run) return stringify({ err: { name: 'Error', message: `command ${name} is not registered` } });
    const token = payload.run;
    const out = (stream: string) => (text: unknown): void => {
      const reply = parse(bridge.sys('command.output', stringify({ run: token, stream, text: typeof text === 'string' ? text : describeLog(text) }))) as { err?: { code: string; message: string } };
      if (reply.err) throw toError(reply.err);
    };
    const io = freeze({ print: out('out'), error: out('err'), json: payload.json === true });
    const argv = isArray(payload.argv) ? payload.argv.map((a) => String(a)) : [];
    try {
      const value = run(freeze(argv), host, io);
      if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
        return settleLater(id, PromiseCtor.resolve(value), maxChars);
      }
      return encodeOk(value, maxChars);
    } catch (e) {
      return encodeErr(e);
    }
  }

  function settleLater(id: number, value: unknown, maxChars: number): string {
    const p = value as Promise<unknown>;
    p.then((v) => bridge.settle(id, encodeOk(v, maxChars)), (e) => bridge.settle(id, encodeErr(e)));
    return '{"pending":1}';
  }

  function runHook(name: string, payload: unknown, id: number, maxChars: number): string {
    const list = taps.get(name);
    if (!list) return stringify({ err: { name: 'Error', message: `no handler tapped for hook ${name}` } });
    // Bail hooks stop at the first answer; waterfalls thread the value; notifications call everyone.
    const bail = name === 'beforeToolCall' || name === 'pluginLoad' || name === 'runCommand';
    const waterfall = name === 'resolveTools' || name === 'afterToolCall' || name === 'buildPrompt' || name === 'resolveCommands';
    // Synchronous handlers are answered on the spot; the first handler that returns a promise moves the
    // rest of the chain onto the async path (settled through bridge.settle).
    let value = payload;
    for (let i = 0; i < list.length; i++) {
      let out: unknown;
      try {
        out = list[i]!(value);
      } catch (e) {
        return encodeErr(e);
      }
      if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
        const rest = list.slice(i + 1);
        const finish = async (): Promise<unknown> => {
          let v: unknown = await out;
          if (bail && v !== undefined) return v;
          if (waterfall && v !== undefined) value = v;
          for (const fn of rest) {
            v = await fn(value);
            if (bail && v !== undefined) return v;
            if (waterfall && v !== undefined) value = v;
          }
          return bail ? undefined : waterfall ? value : null;
        };
        return settleLater(id, finish(), maxChars);
      }
      if (bail && out !== undefined) return encodeOk(out, maxChars);
      if (waterfall && out !== undefined) value = out;
    }
    return encodeOk(bail ? undefined : waterfall ? value : null, maxChars);
  }

  return {
    boot(): string {
      const mod = G.__caduceusPlugin as { default?: unknown } | undefined;
      const def = (mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod) as
        | { tools?: Array<{ name?: unknown; handler?: unknown }>; setup?: (ctx: unknown) => unknown }
        | undefined;
      if (!def || typeof def !== 'object') {
        return stringify({ err: { name: 'Error', message: 'the bundle did not export a plugin (expected `export default definePlugin(...)`)' } });
      }
      const list = isArray(def.tools) ? def.tools : [];
      for (const t of list) {
        if (!t || typeof t.name !== 'string' || typeof t.handler !== 'function') {
          return stringify({ err: { name: 'Error', message: `a tool entry has no name or handler: ${describe(t && t.name)}` } });
        }
        if (tools.has(t.name)) return stringify({ err: { name: 'Error', message: `tool ${t.name} is defined twice` } });
        tools.set(t.name, t.handler as (args: unknown, ctx: unknown, call: unknown) => unknown);
      }
      const commandList = (def as { commands?: Array<{ name?: unknown; run?: unknown }> }).commands;
      for (const c of isArray(commandList) ? commandList : []) {
        if (!c || typeof c.name !== 'string' || typeof c.run !== 'function') {
          return stringify({ err: { name: 'Error', message: `a command entry has no name or run function: ${describe(c && c.name)}` } });
        }
        if (commands.has(c.name)) return stringify({ err: { name: 'Error', message: `command ${c.name} is defined twice` } });
        commands.set(c.name, c.run as (argv: unknown, ctx: unknown, io: unknown) => unknown);
      }
      const providerList = (def as { providers?: Array<{ name?: unknown; chat?: unknown }> }).providers;
      for (const p of isArray(providerList) ? providerList : []) {
        if (!p || typeof p.name !== 'string' || typeof p.chat !== 'function') {
          return stringify({ err: { name: 'Error', message: `a provider entry has no name or chat function: ${describe(p && p.name)}` } });
        }
        if (providers.has(p.name)) return stringify({ err: { name: 'Error', message: `provider ${p.name} is defined twice` } });
        providers.set(p.name, p.chat as (request: unknown, ctx: unknown, stream: unknown) => unknown);
      }
      const declared = (def as { hooks?: Record<string, { handler?: unknown }> }).hooks;
      if (declared && typeof declared === 'object') {
        for (const hookName of Object.keys(declared)) {
          const handler = declared[hookName]?.handler;
          if (typeof handler !== 'function') return stringify({ err: { name: 'Error', message: `hook ${hookName} has no handler function` } });
          taps.set(hookName, [handler as (payload: unknown) => unknown]);
        }
      }
      try {
        if (typeof def.setup === 'function') def.setup(host);
      } catch (e) {
        return encodeErr(e);
      }
      return stringify({ ok: { tools: [...tools.keys()], hooks: [...taps.keys()], providers: [...providers.keys()], commands: [...commands.keys()] } });
    },

    dispatch(kind: string, name: string, args: string, id: number, maxChars: number, caller: string, sessionId: string): string {
      let payload: unknown;
      try {
        payload = parse(args);
      } catch (e) {
        return encodeErr(e);
      }
      if (kind === 'hook') return runHook(name, payload, id, maxChars);
      if (kind === 'command') return runCommand(name, payload as { argv: unknown; json: unknown; run: unknown }, id, maxChars);
      if (kind === 'provider') return runProvider(name, payload as { call: string; request: unknown }, id, maxChars);
      const handler = tools.get(name);
      if (!handler) return stringify({ err: { name: 'Error', message: `tool ${name} is not registered` } });
      try {
        const value = handler(payload, host, freeze({ caller, sessionId: sessionId === '' ? null : sessionId }));
        if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
          return settleLater(id, PromiseCtor.resolve(value), maxChars);
        }
        return encodeOk(value, maxChars);
      } catch (e) {
        return encodeErr(e);
      }
    },

    resolveSys(req: number, reply: string): void {
      const waiter = pendingSys.get(req);
      if (!waiter) return;
      pendingSys.delete(req);
      const r = parse(reply) as { ok?: unknown; err?: { code: string; message: string } };
      if (r.err) waiter.reject(toError(r.err));
      else waiter.resolve(r.ok);
    },

    callback(channel: number, payload: string): void {
      const listener = callbacks.get(channel);
      if (!listener) return;
      const report = (e: unknown) => void sys('log', { level: 'error', message: `a ${opts.pluginId} listener threw: ${normalise(e).message}` });
      let value: unknown;
      try {
        value = listener(parse(payload));
      } catch (e) {
        report(e);
        return;
      }
      if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
        (value as Promise<unknown>).then(undefined, report);
      }
    },
  };
}
