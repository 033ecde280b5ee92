/**
 * clock: the current date and time, in UTC, a configured default zone or one the caller names. Opt-in
 * (bundled but not enabled by default). Uses the isolate's own Date and Intl; needs no permissions.
 */
import { definePlugin, defineTool, z } from 'caduceus/sdk';

const now = defineTool({
  name: 'clock_now',
  description: 'Returns the current date and time: ISO 8601 in UTC, Unix milliseconds, and the local wall time, weekday and UTC offset in the requested IANA time zone.',
  input: z.object({ timeZone: z.string().min(1).max(64).optional().describe('IANA time zone, e.g. America/New_York; defaults to the configured zone or UTC') }),
  output: z.object({ iso: z.string(), unixMs: z.number(), timeZone: z.string(), local: z.string(), weekday: z.string(), offset: z.string() }),
  mutating: false,
  idempotent: false,
  timeoutMs: 1000,
  maxResultBytes: 1024,
  handler: ({ timeZone }, ctx) => {
    const zone = timeZone ?? (typeof ctx.config.timeZone === 'string' ? ctx.config.timeZone : 'UTC');
    const date = new Date(ctx.clock.now());
    let parts: Intl.DateTimeFormatPart[];
    try {
      parts = new Intl.DateTimeFormat('en-US', {
        timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
        hourCycle: 'h23', weekday: 'long', timeZoneName: 'longOffset',
      }).formatToParts(date);
    } catch {
      throw new Error(`unknown time zone "${zone}"; use an IANA name such as Europe/Paris or UTC`);
    }
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    const offset = get('timeZoneName').replace(/^GMT/, '') || '+00:00';
    return {
      iso: date.toISOString(),
      unixMs: date.getTime(),
      timeZone: zone,
      local: `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')}`,
      weekday: get('weekday'),
      offset,
    };
  },
});

export default definePlugin({ tools: [now] });
