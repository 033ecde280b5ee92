/** Constants shared by the SDK's build-time and sandbox entries. */

/** Tap order for hooks, by name: guards run before everything else, audit taps after. */
export const STAGE = { GUARD: -100, DEFAULT: 0, AUDIT: 100 } as const;
export type StageName = keyof typeof STAGE;

/** Error codes a plugin may see from the host API (match errors on `err.code`). */
export const HOST_ERROR_CODES = [
  'CAD_ERR_PERMISSION_DENIED', 'CAD_ERR_SYSCALL_INVALID', 'CAD_ERR_SYSCALL_UNKNOWN', 'CAD_ERR_NET_BLOCKED',
  'CAD_ERR_NET_FAILED', 'CAD_ERR_FS_OUTSIDE_ROOT', 'CAD_ERR_FS_PROTECTED', 'CAD_ERR_FS_FAILED', 'CAD_ERR_KV_LIMIT',
] as const;
export type HostErrorCode = (typeof HOST_ERROR_CODES)[number];
