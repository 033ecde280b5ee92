/**
 * The WebAssembly memory cap installed inside a plugin isolate when the plugin is granted `wasm`.
 * Like the prelude, it is serialised with toString() and evaluated in the isolate before plugin code
 * runs, so it must not reference anything outside itself.
 */
/**
 * WebAssembly memory lives outside the V8 heap, so the isolate's memoryLimit never sees it: without
 * this, a plugin granted `wasm` could grow memories to gigabytes. Every memory it can make, from JS
 * (new WebAssembly.Memory) or defined by a module (one per instance), gets a maximum, and the maxima
 * together are held to the plugin's memoryMb (in 64 KiB pages); growing past a maximum then fails the
 * way wasm always does (grow() throws RangeError, memory.grow returns -1). A module's own memory limits
 * are rewritten in a private copy of its bytes before it is compiled. Budget is reserved when a memory
 * or instance is made and comes back only when the isolate restarts (garbage collection is not
 * observable in time), so plugins should reuse instances. The wrappers replace the constructors on the
 * namespace and as their prototypes' `constructor`, so the originals are unreachable; and they only
 * use intrinsics captured here, before plugin code runs, so a plugin that overwrites builtins cannot
 * make them miscount.
 */
export function capWasmMemory(WA: Record<string, unknown>, budgetPages: number): void {
  const PromiseCtor = Promise;
  type Ctor = new (...a: unknown[]) => object;
  const OrigMemory = WA.Memory as Ctor;
  const OrigModule = WA.Module as Ctor & Record<string, unknown>;
  const OrigInstance = WA.Instance as Ctor;
  const origCompile = WA.compile as (...a: unknown[]) => Promise<object>;
  const origInstantiate = WA.instantiate as (...a: unknown[]) => Promise<unknown>;
  const CompileError = WA.CompileError as new (m: string) => Error;
  const RangeErrorCtor = RangeError;
  const TypeErrorCtor = TypeError;
  const Uint8 = Uint8Array;
  const Float64 = Float64Array;
  const isView = ArrayBuffer.isView;
  const apply = Reflect.apply;
  const construct = Reflect.construct;
  const defineProperty = Object.defineProperty;
  const promiseThen = PromiseCtor.prototype.then;
  const pagesOf = new WeakMap<object, number>();
  const wmGet = WeakMap.prototype.get;
  const wmSet = WeakMap.prototype.set;
  const wmHas = WeakMap.prototype.has;
  let left = budgetPages;

  const over = (what: string, pages: number): Error => new RangeErrorCtor(
    `${what} needs ${pages} pages of WebAssembly memory (64 KiB each) but only ${left} of this plugin's ${budgetPages} are left; `
    + 'WebAssembly memory counts against sandbox.memoryMb and is returned only when the plugin restarts');
  const reserve = (pages: number, what: string): void => {
    if (!(pages <= left)) throw over(what, pages);
    left -= pages;
  };

  // A private copy, so the bytes that are checked are exactly the bytes that are compiled. Its length
  // is kept beside it: `.length` is a prototype getter a plugin could redefine.
  function snapshot(source: unknown): { bytes: Uint8Array; n: number } {
    const s = source as { buffer: ArrayBuffer; byteOffset: number; byteLength: number };
    const view = isView(source) ? new Uint8(s.buffer, s.byteOffset, s.byteLength) : new Uint8(source as ArrayBuffer);
    const n = +view.length;
    const bytes = new Uint8(n);
    for (let i = 0; i < n; i++) bytes[i] = view[i]!;
    return { bytes, n };
  }

  /** Rewrites the memory section so every defined memory has a maximum within the budget. */
  function capModule(source: unknown, what: string): { bytes: Uint8Array; pages: number } {
    const { bytes: src, n } = snapshot(source);
    const bad = (why: string): Error => new CompileError(`${what}: ${why}`);
    let pos = 0;
    const u32 = (): number => {
      let value = 0;
      for (let shift = 0; shift < 35; shift += 7) {
        if (pos >= n) throw bad('truncated LEB128 number');
        const b = src[pos++]!;
        value += (b & 0x7f) * 2 ** shift;
        if ((b & 0x80) === 0) {
          if (value > 0xffffffff) break;
          return value;
        }
      }
      throw bad('malformed LEB128 number');
    };
    const lebSize = (v: number): number => (v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5);
    if (n < 8) throw bad('not a WebAssembly module');
    // First pass: find the memory section and the capped limits of each memory it defines. The limits
    // go into a typed array: indexed writes to a plain array could hit setters a plugin put on
    // Array.prototype.
    let memories: Float64Array | undefined;
    let count = 0;
    let grow = 0;
    let pages = 0;
    pos = 8;
    while (pos < n) {
      const start = pos;
      const id = src[pos++]!;
      const size = u32();
      const end = pos + size;
      if (end > n) throw bad('section runs past the end');
      if (id === 5) {
        if (memories) throw bad('more than one memory section');
        count = u32();
        memories = new Float64(3 * count);
        let payload = lebSize(count);
        for (let i = 0; i < count; i++) {
          if (pos >= end) throw bad('memory section is truncated');
          const flags = src[pos++]!;
          if ((flags & ~3) !== 0) throw bad(`memory limits flags ${flags} are not supported in the sandbox`);
          const min = u32();
          const declared = (flags & 1) !== 0 ? u32() : Infinity;
          const max = declared < budgetPages ? declared : budgetPages;
          if (min > max) throw over(what, min);
          memories[3 * i] = flags | 1;
          memories[3 * i + 1] = min;
          memories[3 * i + 2] = max;
          pages += max;
          payload += 1 + lebSize(min) + lebSize(max);
        }
        if (pos !== end) throw bad('memory section size does not match its contents');
        grow += 1 + lebSize(payload) + payload - (end - start);
      }
      pos = end;
    }
    if (!memories) return { bytes: src, pages: 0 };
    // Second pass: copy every section, writing the memory section from the capped limits.
    const out = new Uint8(n + grow);
    let w = 0;
    const put = (v: number): void => {
      do {
        const b = v % 128;
        v = (v - b) / 128;
        out[w++] = v > 0 ? b | 0x80 : b;
      } while (v > 0);
    };
    for (let i = 0; i < 8; i++) out[w++] = src[i]!;
    pos = 8;
    while (pos < n) {
      const start = pos;
      const id = src[pos++]!;
      const size = u32();
      const end = pos + size;
      if (id !== 5) {
        for (let i = start; i < end; i++) out[w++] = src[i]!;
      } else {
        let payload = lebSize(count);
        for (let i = 0; i < count; i++) payload += 1 + lebSize(memories[3 * i + 1]!) + lebSize(memories[3 * i + 2]!);
        out[w++] = 5;
        put(payload);
        put(count);
        for (let i = 0; i < 3 * count; i++) {
          if (i % 3 === 0) out[w++] = memories[i]!;
          else put(memories[i]!);
        }
      }
      pos = end;
    }
    return { bytes: out, pages };
  }

  function Memory(this: unknown, descriptor: { initial?: unknown; maximum?: unknown; shared?: unknown }): object {
    if (!new.target) throw new TypeErrorCtor("WebAssembly.Memory must be called with 'new'");
    if (descriptor === null || typeof descriptor !== 'object') throw new TypeErrorCtor('WebAssembly.Memory(): argument 0 must be a memory descriptor');
    const initial = +(descriptor.initial as number);
    const wanted = descriptor.maximum === undefined ? budgetPages : +(descriptor.maximum as number);
    const shared = !!descriptor.shared;
    const max = wanted < left ? wanted : left;
    if (initial > max) throw over('WebAssembly.Memory()', initial);
    // Reserved before construction: a subclass's new.target can run plugin code in between.
    left -= max;
    try {
      // A null-prototype descriptor: nothing a plugin adds to Object.prototype can change what V8 reads.
      return construct(OrigMemory, [{ __proto__: null, initial, maximum: max, shared }], new.target);
    } catch (e) {
      left += max;
      throw e;
    }
  }

  function Module(this: unknown, bytes: unknown): object {
    if (!new.target) throw new TypeErrorCtor("WebAssembly.Module must be called with 'new'");
    const capped = capModule(bytes, 'WebAssembly.Module()');
    const module = construct(OrigModule, [capped.bytes], new.target);
    apply(wmSet, pagesOf, [module, capped.pages]);
    return module;
  }

  function Instance(this: unknown, module: unknown, imports?: unknown): object {
    if (!new.target) throw new TypeErrorCtor("WebAssembly.Instance must be called with 'new'");
    const pages = apply(wmGet, pagesOf, [module]) as number | undefined;
    if (pages === undefined) throw new TypeErrorCtor('WebAssembly.Instance(): argument 0 must be a WebAssembly.Module');
    // Reserved before construction: the start function may run plugin code that instantiates again.
    reserve(pages, 'WebAssembly.Instance()');
    try {
      return construct(OrigInstance, [module, imports], new.target);
    } catch (e) {
      left += pages;
      throw e;
    }
  }

  function compile(bytes: unknown): Promise<object> {
    let capped: { bytes: Uint8Array; pages: number };
    try {
      capped = capModule(bytes, 'WebAssembly.compile()');
    } catch (e) {
      return PromiseCtor.reject(e);
    }
    return apply(promiseThen, apply(origCompile, WA, [capped.bytes]), [(module: object) => {
      apply(wmSet, pagesOf, [module, capped.pages]);
      return module;
    }]) as Promise<object>;
  }

  function instantiate(source: unknown, imports?: unknown): Promise<unknown> {
    try {
      if (apply(wmHas, pagesOf, [source])) {
        reserve(apply(wmGet, pagesOf, [source]) as number, 'WebAssembly.instantiate()');
        return apply(origInstantiate, WA, [source, imports]) as Promise<unknown>;
      }
      const capped = capModule(source, 'WebAssembly.instantiate()');
      reserve(capped.pages, 'WebAssembly.instantiate()');
      return apply(promiseThen, apply(origInstantiate, WA, [capped.bytes, imports]), [(result: { module: object }) => {
        apply(wmSet, pagesOf, [result.module, capped.pages]);
        return result;
      }]) as Promise<unknown>;
    } catch (e) {
      return PromiseCtor.reject(e);
    }
  }

  const replace = (Wrapper: (...a: never[]) => unknown, Orig: Ctor, name: string): void => {
    const proto = Orig.prototype as object;
    defineProperty(Wrapper, 'prototype', { value: proto, writable: false, enumerable: false, configurable: false });
    defineProperty(proto, 'constructor', { value: Wrapper, writable: true, enumerable: false, configurable: true });
    defineProperty(Wrapper, 'name', { value: name });
    defineProperty(WA, name, { value: Wrapper, writable: true, enumerable: false, configurable: true });
  };
  replace(Memory, OrigMemory, 'Memory');
  replace(Module, OrigModule, 'Module');
  replace(Instance, OrigInstance, 'Instance');
  for (const k of ['exports', 'imports', 'customSections']) (Module as unknown as Record<string, unknown>)[k] = OrigModule[k];
  WA.compile = compile;
  WA.instantiate = instantiate;
  // Streaming needs fetch Responses, which a sandbox never has; one less path around the cap.
  delete WA.compileStreaming;
  delete WA.instantiateStreaming;
}
