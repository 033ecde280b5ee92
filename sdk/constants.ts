/** Constants shared by the SDK's build-time and sandbox entries. */

/**
 * Tap order for hooks, by name: guards run before everything else, audit taps after.
 *
 * @example
 * ```ts
 * hooks: { beforeToolCall: { stage: 'GUARD', handler: () => undefined } } // or STAGE.GUARD in host code
 * ```
 */
export const STAGE = { GUARD: -100, DEFAULT: 0, AUDIT: 100 } as const;
/**
 * A stage name, as used in `definePlugin({ hooks: { <hook>: { stage } } })`.
 *
 * @example
 * ```ts
 * const stage: StageName = 'AUDIT';
 * ```
 */
export type StageName = keyof typeof STAGE;

/**
 * Error codes a plugin may see from the host API. Match errors on `err.code`, never with `instanceof`:
 * errors that cross the isolate boundary lose their prototype.
 *
 * @example
 * ```ts
 * try { await ctx.fetch(url); } catch (err) {
 *   if ((err as { code?: string }).code === 'CAD_ERR_NET_BLOCKED') return { error: 'that host is not allowed' };
 *   throw err;
 * }
 * ```
 */
export const HOST_ERROR_CODES = [
  'CAD_ERR_PERMISSION_DENIED', 'CAD_ERR_SYSCALL_INVALID', 'CAD_ERR_SYSCALL_UNKNOWN', 'CAD_ERR_NET_BLOCKED',
  'CAD_ERR_NET_FAILED', 'CAD_ERR_EXEC_HARDLINE', 'CAD_ERR_EXEC_DENIED', 'CAD_ERR_FS_OUTSIDE_ROOT', 'CAD_ERR_FS_PROTECTED', 'CAD_ERR_FS_FAILED', 'CAD_ERR_KV_LIMIT',
  'CAD_ERR_PROCESS_NOT_FOUND', 'CAD_ERR_PROCESS_LIMIT',
] as const;
/**
 * One of {@link HOST_ERROR_CODES}.
 *
 * @example
 * ```ts
 * const isDenied = (code: HostErrorCode) => code === 'CAD_ERR_PERMISSION_DENIED';
 * ```
 */
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];
