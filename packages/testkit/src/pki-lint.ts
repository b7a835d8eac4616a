import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {homedir} from 'node:os';
import {join} from 'node:path';
import {run} from './run.js';

/**
 * The certificate linters the field trusts, installed by scripts/lib/pki.sh: zlint (Go module
 * proxy) and DigiCert's pkilint (PyPI). Tests lint what pkictl issues and fail on any finding
 * their allow-list does not name. A missing linter is an error naming the script: never a skip.
 */
export const ZLINT_VERSION = 'v3.7.3';
export const PKILINT_VERSION = '0.13.3';

export interface LintFinding {
  linter: 'zlint' | 'pkilint';
  /** zlint's lint name (e_..., w_...), or pkilint's finding code (pkix....). */
  rule: string;
  /** zlint: info, notice, warn, error, fatal; pkilint: NOTICE, WARNING, ERROR, FATAL. */
  severity: string;
  file: string;
  /** pkilint: where in the structure; zlint: its details text. */
  where?: string;
}

function cacheDir(): string {
  return process.env.BCL_TESTKIT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bcl-testkit');
}

export function zlintPath(): string {
  const candidates = [process.env.BCL_ZLINT, join(cacheDir(), `zlint-${ZLINT_VERSION}`, 'zlint')].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`zlint is not installed (looked at ${candidates.join(', ')}); run ./scripts/test, or source scripts/lib/common.sh and scripts/lib/pki.sh and call ensure_zlint`);
  return found;
}

/** The directory holding pkilint's commands (lint_pkix_cert, lint_crl, ...). */
export function pkilintBin(): string {
  const candidates = [process.env.BCL_PKILINT_BIN, join(cacheDir(), `pkilint-${PKILINT_VERSION}`, 'bin')].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(join(p, 'lint_pkix_cert')));
  if (!found) throw new Error(`pkilint is not installed (looked in ${candidates.join(', ')}); run ./scripts/test, or source scripts/lib/common.sh and scripts/lib/pki.sh and call ensure_pkilint`);
  return found;
}

const ZLINT_QUIET = new Set(['pass', 'NA', 'NE']);

/**
 * Runs zlint over PEM certificates or CRLs; every result that is not pass/NA/NE is a finding.
 * `config` is zlint's TOML lint configuration (e.g. "[e_crl_next_update_invalid]\nSubscriberCRL = false"
 * for a CRL of CA certificates).
 */
export async function zlint(files: readonly string[], options: {config?: string} = {}): Promise<LintFinding[]> {
  const findings: LintFinding[] = [];
  const dir = options.config ? mkdtempSync(join(tmpdir(), 'zlint-config-')) : undefined;
  const configArgs = dir ? ['-config', join(dir, 'zlint.toml')] : [];
  if (dir) writeFileSync(join(dir, 'zlint.toml'), options.config!);
  try {
    for (const file of files) findings.push(...(await zlintOne(file, configArgs)));
  } finally {
    if (dir) rmSync(dir, {recursive: true, force: true});
  }
  return findings;
}

async function zlintOne(file: string, configArgs: string[]): Promise<LintFinding[]> {
  const out = await run(zlintPath(), [...configArgs, file]);
  const results = JSON.parse(out.stdout) as Record<string, {result: string; details?: string}>;
  return Object.entries(results)
    .filter(([, r]) => !ZLINT_QUIET.has(r.result))
    .map(([rule, r]) => ({linter: 'zlint' as const, rule, severity: r.result, file, ...(r.details ? {where: r.details} : {})}));
}

interface PkilintReport {
  results: {node_path: string; validator: string; finding_descriptions: {severity: string; code: string; message: string | null}[]}[];
}

/** pkilint's commands: certificates (RFC 5280), an issuer/subject pair, CRLs (RFC 5280 profile). */
export type PkilintCheck =
  | {kind: 'cert'; file: string}
  | {kind: 'chain'; issuer: string; subject: string}
  /** ARL: a CRL of CA certificates only (issuingDistributionPoint onlyContainsCACerts). */
  | {kind: 'crl'; file: string; type?: 'CRL' | 'ARL'};

/** Runs pkilint; findings of severity NOTICE and above count (INFO only reports what it saw). */
export async function pkilint(checks: readonly PkilintCheck[]): Promise<LintFinding[]> {
  const bin = pkilintBin();
  const findings: LintFinding[] = [];
  for (const check of checks) {
    const [command, args, file] =
      check.kind === 'cert'
        ? ['lint_pkix_cert', ['lint', '-s', 'NOTICE', '-f', 'JSON', check.file], check.file]
        : check.kind === 'crl'
          ? ['lint_crl', ['lint', '-t', check.type ?? 'CRL', '-p', 'PKIX', '-s', 'NOTICE', '-f', 'JSON', check.file], check.file]
          : ['lint_pkix_signer_signee_cert_chain', ['lint', '-s', 'NOTICE', '-f', 'JSON', check.issuer, check.subject], `${check.issuer} -> ${check.subject}`];
    // pkilint exits non-zero when it reports findings; its JSON on stdout is what counts.
    const out = await run(join(bin, command), args, {allowFailure: true});
    let report: PkilintReport;
    try {
      report = JSON.parse(out.stdout) as PkilintReport;
    } catch {
      throw new Error(`${command} ${args.join(' ')} printed no JSON report (exit ${out.code}): ${out.stderr || out.stdout}`);
    }
    for (const r of report.results) {
      for (const f of r.finding_descriptions) {
        findings.push({linter: 'pkilint', rule: f.code, severity: f.severity, file, where: `${r.node_path}${f.message ? `: ${f.message}` : ''}`});
      }
    }
  }
  return findings;
}
