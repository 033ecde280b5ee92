/**
 * Destructive database statements inside shell commands: `psql -c "DROP TABLE users"`, `sqlite3 app.db
 * "DELETE FROM sessions"`, `mysql -e …`, or SQL piped or here-doc'd into a client. Only text handed to a
 * database client counts; `echo "DROP TABLE x"` on its own is data. The scan strips comments and string
 * literals first, so `SELECT 'drop table'` is not a drop, and it is linear in the SQL's length.
 */

// Options whose value is SQL, per client. sqlite3 and duckdb also take SQL as positionals after the db.
const SQL_OPTIONS: Record<string, string[]> = {
  psql: ['-c', '--command'],
  mysql: ['-e', '--execute'],
  mariadb: ['-e', '--execute'],
  sqlite3: ['-cmd'],
  duckdb: ['-c', '-s', '-cmd'],
  sqlcmd: ['-Q', '-q'],
  'clickhouse-client': ['-q', '--query'],
  clickhouse: ['-q', '--query'],
  cqlsh: ['-e', '--execute'],
  cockroach: ['-e', '--execute'],
  mongosh: ['--eval'],
  mongo: ['--eval'],
};
const SQL_POSITIONAL = new Set(['sqlite3', 'duckdb']);
const SQLITE_VALUED = new Set(['-separator', '-nullvalue', '-newline', '-init', '-vfs', '-mmap', '-maxsize', '-lookaside', '-pagecache', '-heap']);
const MONGO = new Set(['mongosh', 'mongo']);
const NONE: string[] = Object.freeze([]) as unknown as string[];

export function isSqlClient(name: string): boolean {
  return Object.hasOwn(SQL_OPTIONS, name);
}

/** The SQL (or mongo script) a database client is given in its arguments. */
export function sqlClientText(name: string, args: string[]): string[] {
  if (!isSqlClient(name)) return NONE;
  const options = SQL_OPTIONS[name]!;
  const out: string[] = [];
  const pos: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    const eq = t.startsWith('--') ? t.indexOf('=') : -1;
    if (eq > 0 && options.includes(t.slice(0, eq))) { out.push(t.slice(eq + 1)); continue; }
    if (options.includes(t)) { if (i + 1 < args.length) out.push(args[++i]!); continue; }
    if (t.length > 2 && t[1] !== '-' && options.includes(t.slice(0, 2))) { out.push(t.slice(2)); continue; }
    if (t.startsWith('-')) { if (SQLITE_VALUED.has(t)) i++; continue; }
    pos.push(t);
  }
  if (SQL_POSITIONAL.has(name)) for (let k = 1; k < pos.length; k++) out.push(pos[k]!);
  return MONGO.has(name) ? out.map((js) => (mongoDestructive(js) ? 'DROP DATABASE' : '')) : out;
}

function mongoDestructive(js: string): boolean {
  return /\.drop(Database)?\s*\(/.test(js) || /\.(deleteMany|remove)\s*\(\s*\{\s*\}/.test(js);
}

/** Why this SQL destroys data, or null: DROP TABLE/DATABASE/SCHEMA, TRUNCATE, DELETE FROM without WHERE. */
export function destructiveSql(sql: string): string | null {
  let clean = '';
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') { const nl = sql.indexOf('\n', i); i = nl < 0 ? sql.length : nl; clean += ' '; continue; }
    if (c === '/' && sql[i + 1] === '*') { const e = sql.indexOf('*/', i + 2); i = e < 0 ? sql.length : e + 1; clean += ' '; continue; }
    if (c === "'") { const e = sql.indexOf("'", i + 1); i = e < 0 ? sql.length : e; clean += ' x '; continue; }
    clean += c;
  }
  for (const stmt of clean.split(';')) {
    const words: string[] = stmt.toUpperCase().match(/[A-Z_][A-Z0-9_]*/g) ?? [];
    for (let i = 0; i < words.length; i++) {
      const w = words[i];
      if (w === 'DROP') {
        const kind = words[i + 1] === 'TEMPORARY' || words[i + 1] === 'TEMP' ? words[i + 2] : words[i + 1];
        if (kind === 'TABLE' || kind === 'DATABASE' || kind === 'SCHEMA') return `drops a ${kind.toLowerCase()} (DROP ${kind})`;
      }
      if (w === 'TRUNCATE' && i === 0) return 'empties a table (TRUNCATE)';
      if (w === 'DELETE' && words[i + 1] === 'FROM' && !words.includes('WHERE')) return 'deletes every row of a table (DELETE without WHERE)';
    }
  }
  return null;
}
