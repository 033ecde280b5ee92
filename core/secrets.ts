/**
 * Secrets: named values (API keys, tokens) the operator stores once and plugins read only with a
 * `secret:<NAME>` grant. They live in `$CADUCEUS_HOME/secrets/secrets.json` (folder 0700, file 0600),
 * written atomically; no plugin can read or write that folder through the fs syscalls, audit rows name
 * the secret but never hold its value, and listings show names only.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CaduceusError } from './errors.js';

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_SECRET_BYTES = 64 * 1024;

export class SecretStore {
  private readonly dir: string;
  private readonly file: string;

  constructor(home: string) {
    this.dir = join(home, 'secrets');
    this.file = join(this.dir, 'secrets.json');
  }

  private read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
    } catch (err) {
      throw new CaduceusError('CAD_ERR_CONFIG_INVALID', `Secrets file '${this.file}' is not valid JSON: ${(err as Error).message}. Fix or delete it, then set the secrets again.`);
    }
  }

  private write(all: Record<string, string>): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  get(name: string): string | undefined {
    return this.read()[name];
  }

  names(): string[] {
    return Object.keys(this.read()).sort();
  }

  set(name: string, value: string): void {
    checkName(name);
    if (value.length === 0) throw new CaduceusError('CAD_ERR_SECRET_INVALID', `Secret '${name}' is empty. Pass the value on stdin, e.g. \`printf %s "$KEY" | caduceus secrets set ${name}\`.`);
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new CaduceusError('CAD_ERR_SECRET_INVALID', `Secret '${name}' is over ${MAX_SECRET_BYTES} bytes; store a smaller value.`);
    this.write({ ...this.read(), [name]: value });
  }

  remove(name: string): boolean {
    const all = this.read();
    if (!(name in all)) return false;
    delete all[name];
    this.write(all);
    return true;
  }
}

export function checkName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new CaduceusError('CAD_ERR_SECRET_INVALID', `Secret name ${JSON.stringify(name)} is not valid: use letters, digits and underscores, starting with a letter or underscore (e.g. OPENAI_API_KEY).`);
  }
}
