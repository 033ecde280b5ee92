/**
 * A Node module resolve hook for `caduceus plugin test`: a plugin's tests import `caduceus/sdk/testing`,
 * and a freshly scaffolded plugin has no node_modules yet. Imports of `caduceus` and `caduceus/*` that the
 * plugin folder cannot resolve itself are resolved from the Caduceus that runs the tests, so the
 * scaffolded test passes before `npm install`. A plugin that installed its own Caduceus gets that one.
 */
interface ResolveContext { parentURL?: string | undefined; conditions?: string[]; importAttributes?: Record<string, string> }
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>;

const SELF = new URL('../../package.json', import.meta.url).href;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string; format?: string | null; shortCircuit?: boolean }> {
  if (specifier !== 'caduceus' && !specifier.startsWith('caduceus/')) return next(specifier, context);
  try {
    return await next(specifier, context);
  } catch {
    // The package's own name resolves through its "exports" from inside the package (self-reference).
    return next(specifier, { ...context, parentURL: SELF });
  }
}
