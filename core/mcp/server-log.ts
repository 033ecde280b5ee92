/**
 * Where a stdio MCP server's stderr goes: `$CADUCEUS_HOME/logs/mcp/<server>.log`, owner-only, bounded.
 * When the file passes its limit it is renamed to `<server>.log.1` (replacing the previous one) and a new
 * file starts, so one server never holds more than twice the limit on disk. The last few lines are kept
 * in memory too, for error messages ("the server exited; it said: …").
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sanitizePart } from './names.js';

export const LOG_LIMIT_BYTES = 256 * 1024;
const TAIL_CHARS = 2000;

export function serverLogFile(home: string, server: string): string {
  return join(home, 'logs', 'mcp', `${sanitizePart(server)}.log`);
}

export class ServerLog {
  private size: number;
  private tailText = '';

  constructor(readonly file: string, private readonly limit = LOG_LIMIT_BYTES) {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    try {
      this.size = statSync(file).size;
    } catch {
      this.size = 0;
    }
  }

  write(chunk: string | Buffer): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.tailText = (this.tailText + text).slice(-TAIL_CHARS);
    try {
      if (this.size + Buffer.byteLength(text) > this.limit && this.size > 0) {
        renameSync(this.file, `${this.file}.1`);
        this.size = 0;
      }
      // A single chunk larger than the limit is cut to its end: the newest output matters most.
      const body = Buffer.byteLength(text) > this.limit ? text.slice(-this.limit) : text;
      appendFileSync(this.file, body, { mode: 0o600 });
      this.size += Buffer.byteLength(body);
    } catch {
      // A full disk or a removed folder must not take the server down with it; the tail stays in memory.
    }
  }

  /** A marker line between runs of the process, so the log reads as a history. */
  mark(text: string): void {
    this.write(`--- ${new Date().toISOString()} caduceus: ${text}\n`);
  }

  /** The last non-empty lines the server wrote, for error messages. */
  tail(lines = 5): string {
    return this.tailText.split('\n').map((l) => l.trimEnd()).filter((l) => l && !l.startsWith('--- ')).slice(-lines).join(' | ');
  }
}
