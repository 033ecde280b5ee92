/**
 * `caduceus guards check command|url|path|text <value>`: what the host's guards would decide about one
 * value, with the rule that decided it, so operators can test their policy (the security section of
 * config.json) before a plugin or a model meets it. Each kind calls the code the syscalls use: the
 * command classifier plus security.commands, net.fetch's URL checks plus security.blockedDomains, the fs
 * syscalls' protected-path rules, and the prompt-injection scanner. `-` reads the value from stdin.
 * Exits 0 when the value would pass (safe, allowed; caution for text) and 1 when it would be refused,
 * need approval or is dangerous.
 */
import { homedir } from 'node:os';
import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CaduceusError } from '../errors.js';
import { c, printJson, EXIT } from './output.js';
import { withKernel } from './open.js';
import type { Kernel } from '../kernel.js';

export const GUARD_KINDS = ['command', 'url', 'path', 'text'] as const;
export type GuardKind = (typeof GUARD_KINDS)[number];

/** The stable `--json` shape. `verdict` words depend on the kind; see docs/security.md. */
export interface GuardCheck {
  kind: GuardKind;
  value: string;
  verdict: string;
  rule: string | null;
  reason: string;
  details: Record<string, unknown>;
}

/** Verdicts that exit 0. */
const PASSING: Record<GuardKind, readonly string[]> = {
  command: ['safe', 'allowed'],
  url: ['allowed'],
  path: ['allowed'],
  text: ['safe', 'caution'],
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function check(kind: string, value: string, opts: { json?: boolean }): Promise<number> {
  if (!(GUARD_KINDS as readonly string[]).includes(kind)) {
    throw new CaduceusError('CAD_ERR_CLI_USAGE', `\`caduceus guards check\` does not know the kind ${JSON.stringify(kind)}. Use one of: ${GUARD_KINDS.join(', ')} (e.g. \`caduceus guards check url https://example.com/\`).`);
  }
  const k = kind as GuardKind;
  let input = value;
  if (value === '-') {
    input = await readStdin();
    if (k !== 'text') input = input.trim();
  }
  const result = k === 'text' ? await checkText(input) : await withKernel((kernel) => CHECKS[k](kernel, input));
  if (opts.json) printJson(result);
  else print(result);
  return PASSING[k].includes(result.verdict) ? EXIT.OK : EXIT.FAILURE;
}

const CHECKS: Record<Exclude<GuardKind, 'text'>, (k: Kernel, value: string) => Promise<GuardCheck>> = {
  async command(k, value) {
    const [{ checkCommand }, { commandPolicy, decideCommand }, { approvalMode }] = await Promise.all([
      import('../safety/command.js'), import('../safety/policy.js'), import('../approvals.js'),
    ]);
    const policy = commandPolicy(k.settings());
    const mode = approvalMode(k);
    const checked = checkCommand(value);
    const decision = decideCommand(checked, policy, mode);
    return {
      kind: 'command', value, verdict: decision.verdict, rule: decision.rule ?? null, reason: decision.reason,
      details: {
        normalized: checked.normalized,
        classifier: { verdict: checked.verdict, rule: checked.rule ?? null, reason: checked.reason },
        matches: checked.matches,
        segments: checked.segments,
        globs: 'glob' in decision && decision.glob ? [decision.glob] : 'globs' in decision ? decision.globs : [],
        approvalMode: mode,
      },
    };
  },

  async url(k, value) {
    const [{ blockedDomains }, { inspectUrl }] = await Promise.all([import('../safety/policy.js'), import('../syscalls/url-policy.js')]);
    const r = await inspectUrl(value, blockedDomains(k.settings()));
    return {
      kind: 'url', value, verdict: r.verdict, rule: r.rule, reason: r.reason,
      details: { url: r.url, host: r.host, permission: r.permission, blockedBy: r.blockedBy, addresses: r.addresses },
    };
  },

  async path(k, value) {
    const { protectedPathKind, realpathLoose, inside } = await import('../syscalls/fs.js');
    if (value === '' || value.includes('\0')) throw new CaduceusError('CAD_ERR_CLI_USAGE', 'Pass a path to check, e.g. `caduceus guards check path ~/.ssh/id_rsa`.');
    const expanded = value === '~' ? homedir()
      : value.startsWith('~/') ? join(homedir(), value.slice(2))
        : value.replace(/^\$HOME(?=\/|$)/, homedir()).replace(/^\$WORKSPACE(?=\/|$)/, k.workspace);
    const absolute = isAbsolute(expanded) ? expanded : resolve(k.workspace, expanded);
    const resolved = realpathLoose(absolute);
    const workspace = existsSync(k.workspace) ? realpathSync(k.workspace) : k.workspace;
    const kind = protectedPathKind(resolved, k.home);
    const inWorkspace = inside(workspace, resolved);
    const details = { resolved, exists: existsSync(resolved), workspace, inWorkspace, credential: kind === 'credential', caduceusStore: kind === 'caduceus-store', caduceusHome: k.home };
    if (kind === 'caduceus-store') {
      return { kind: 'path', value, verdict: 'refused', rule: 'caduceus-store', reason: 'a Caduceus secret or store file: plugins may neither read nor write it, whatever their grants (they get secrets through secret:<NAME> grants)', details };
    }
    if (kind === 'credential') {
      return { kind: 'path', value, verdict: 'write-protected', rule: 'credential', reason: 'a credential path: plugins may never write it, whatever their grants (a read grant that covers it does expose it)', details };
    }
    return {
      kind: 'path', value, verdict: 'allowed', rule: null, details,
      reason: inWorkspace
        ? 'not protected; inside the workspace, so a plugin granted fs.read:$WORKSPACE / fs.write:$WORKSPACE reaches it'
        : `not protected; outside the workspace (${workspace}), so only a grant on a folder that holds it reaches it`,
    };
  },
};

async function checkText(value: string): Promise<GuardCheck> {
  const { scanText } = await import('../safety/text.js');
  const scan = scanText(value);
  const reason = scan.verdict === 'safe' ? 'no prompt-injection, exfiltration or hidden-text pattern found'
    : `${scan.findings.length} finding${scan.findings.length === 1 ? '' : 's'}; the most severe is ${scan.rule}`;
  return { kind: 'text', value, verdict: scan.verdict, rule: scan.rule ?? null, reason, details: { length: value.length, findings: scan.findings } };
}

function colourVerdict(r: GuardCheck): string {
  return PASSING[r.kind].includes(r.verdict) ? (r.verdict === 'caution' ? c.yellow(r.verdict) : c.green(r.verdict)) : c.red(r.verdict);
}

function print(r: GuardCheck): void {
  const d = r.details as Record<string, any>;
  const shown = r.value.length > 200 ? `${r.value.slice(0, 200)}… (${r.value.length} characters)` : r.value;
  console.log(`${r.kind}: ${shown}`);
  console.log(`verdict: ${colourVerdict(r)}`);
  console.log(`rule: ${r.rule ?? '(none)'}`);
  console.log(`reason: ${r.reason}`);
  if (r.kind === 'command') {
    console.log(`normalized: ${d.normalized}`);
    if (d.classifier.verdict !== r.verdict) console.log(`classifier: ${d.classifier.verdict}${d.classifier.rule ? ` (${d.classifier.rule})` : ''}: ${d.classifier.reason}`);
    for (const m of d.matches as { rule: string; verdict: string; segment: string }[]) console.log(`  ${m.verdict}  ${m.rule}  ${c.dim(m.segment)}`);
    console.log(c.dim(`approval mode: ${d.approvalMode}`));
  } else if (r.kind === 'url') {
    if (d.permission) console.log(`grant needed: ${d.permission}`);
    if (d.blockedBy) console.log(`blocked by: ${d.blockedBy} (security.blockedDomains)`);
    for (const a of d.addresses as { address: string; verdict: string; range: string }[]) console.log(`  ${a.address}  ${a.verdict}  ${c.dim(a.range)}`);
  } else if (r.kind === 'path') {
    console.log(`resolved: ${d.resolved}${d.exists ? '' : c.dim(' (does not exist)')}`);
    console.log(`workspace: ${d.inWorkspace ? 'inside' : 'outside'} ${d.workspace}`);
  } else {
    for (const f of d.findings as { rule: string; severity: string; index: number; excerpt: string }[]) {
      console.log(`  ${f.severity === 'dangerous' ? c.red(f.severity) : c.yellow(f.severity)}  ${f.rule}  at ${f.index}  ${JSON.stringify(f.excerpt)}`);
    }
  }
}
