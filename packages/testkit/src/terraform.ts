import {createHash} from 'node:crypto';
import {chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs';
import {homedir} from 'node:os';
import {dirname, join, relative} from 'node:path';
import {repoRoot} from './cli.js';
import {run} from './run.js';

/** The provider version dbctl pins (packages/dbctl/src/terraform/generate.ts) and the double answers as. */
export const POSTGRESQL_PROVIDER = {namespace: 'cyrilgdn', type: 'postgresql', version: '1.25.0'} as const;

/** The OpenTofu release scripts/lib/dbctl.sh builds from the Go module proxy (BCL_OPENTOFU_VERSION there). */
export const OPENTOFU_VERSION = 'v1.10.10';

/** One engine dbctl drives: terraform, or OpenTofu's tofu. */
export interface TerraformEngine {
  name: 'terraform' | 'tofu';
  binary: string;
}

export interface TerraformKit {
  /** The terraform (or tofu) binary. */
  binary: string;
  /** A CLI configuration whose provider_installation takes cyrilgdn/postgresql from the local mirror. */
  cliConfigFile: string;
  /** Environment for terraform and dbctl: TF_CLI_CONFIG_FILE, no checkpoint calls. */
  env: Record<string, string>;
  mirrorDir: string;
}

const SOURCE_DIR = join(repoRoot, 'packages', 'testkit', 'terraform', 'provider-postgresql');

export function testkitCache(): string {
  return process.env.BCL_TESTKIT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bcl-testkit');
}

/**
 * The hash of the provider double's sources, as scripts/lib/dbctl.sh computes it: sha256 over
 * "sha256  ./path" lines of go.mod, go.sum and *.go files in byte order.
 */
export function providerSourceHash(dir = SOURCE_DIR): string {
  const files = (readdirSync(dir, {recursive: true, withFileTypes: true}) as import('node:fs').Dirent[])
    .filter((e) => e.isFile() && (e.name.endsWith('.go') || e.name === 'go.mod' || e.name === 'go.sum'))
    .map((e) => `./${relative(dir, join(e.parentPath, e.name))}`)
    .sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  const lines = files.map((f) => `${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}  ${f}\n`).join('');
  return createHash('sha256').update(lines).digest('hex').slice(0, 16);
}

/** OpenTofu as scripts/lib/dbctl.sh builds it: ~/.cache/bcl-testkit/opentofu-<version>/tofu. */
export function opentofuBinary(): string {
  return join(testkitCache(), `opentofu-${OPENTOFU_VERSION}`, 'tofu');
}

/** The terraform of the machine image (TERRAFORM_BIN, /usr/local/bin/terraform, PATH), else the OpenTofu build. */
export function terraformBinary(): string {
  const candidates = [process.env.TERRAFORM_BIN, '/usr/local/bin/terraform', '/usr/bin/terraform'];
  for (const path of (process.env.PATH ?? '').split(':')) candidates.push(join(path, 'terraform'));
  candidates.push(opentofuBinary());
  const found = candidates.find((c) => c && existsSync(c));
  if (!found) throw new Error('no terraform on this machine (looked for TERRAFORM_BIN, /usr/local/bin/terraform, PATH, and an OpenTofu build in the testkit cache)');
  return found;
}

/**
 * Both engines, for provisioning tests that run once with each (describe.each): the machine's
 * terraform and the OpenTofu build (scripts/test builds it; a missing one is an error, not a skip).
 */
export function terraformEngines(): TerraformEngine[] {
  const tofu = opentofuBinary();
  if (!existsSync(tofu)) throw new Error(`OpenTofu is not built: ${tofu} is missing (scripts/lib/dbctl.sh ensure_opentofu builds it; ./scripts/test runs it)`);
  const terraform = terraformBinary();
  if (terraform === tofu) throw new Error('no terraform on this machine: the provisioning tests run with terraform and with OpenTofu');
  return [
    {name: 'terraform', binary: terraform},
    {name: 'tofu', binary: tofu},
  ];
}

/**
 * Builds the provider double (Go, cached by source hash under the testkit cache), installs it in a
 * filesystem mirror as registry.terraform.io/cyrilgdn/postgresql/<version>/linux_amd64, and writes
 * a CLI configuration that installs that provider from the mirror and every other one as usual.
 */
export async function terraformKit(engine?: TerraformEngine): Promise<TerraformKit> {
  const hash = providerSourceHash();
  const root = join(testkitCache(), `terraform-provider-postgresql-${hash}`);
  const built = join(root, 'terraform-provider-postgresql');
  if (!existsSync(built)) await buildProvider(built);
  const {namespace, type, version} = POSTGRESQL_PROVIDER;
  const platform = `${process.platform}_${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const mirrorDir = join(root, 'mirror');
  // terraform resolves "cyrilgdn/postgresql" on registry.terraform.io, OpenTofu on registry.opentofu.org.
  const hosts = ['registry.terraform.io', 'registry.opentofu.org'];
  for (const host of hosts) {
    const target = join(mirrorDir, host, namespace, type, version, platform, `terraform-provider-${type}_v${version}`);
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), {recursive: true});
    copyFileSync(built, `${target}.partial`);
    chmodSync(`${target}.partial`, 0o755);
    renameSync(`${target}.partial`, target);
  }
  const cliConfigFile = join(root, 'terraformrc');
  const sources = hosts.map((h) => JSON.stringify(`${h}/${namespace}/${type}`)).join(', ');
  const config = `disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = ${JSON.stringify(mirrorDir)}
    include = [${sources}]
  }
  direct {
    exclude = [${sources}]
  }
}
`;
  if (!existsSync(cliConfigFile) || readFileSync(cliConfigFile, 'utf8') !== config) writeFileSync(cliConfigFile, config);
  return {binary: engine?.binary ?? terraformBinary(), cliConfigFile, mirrorDir, env: {TF_CLI_CONFIG_FILE: cliConfigFile, CHECKPOINT_DISABLE: '1', TF_IN_AUTOMATION: '1'}};
}

async function buildProvider(out: string): Promise<void> {
  const go = ['/usr/local/go/bin/go', '/usr/bin/go'].find((p) => existsSync(p)) ?? 'go';
  mkdirSync(dirname(out), {recursive: true});
  const partial = `${out}.partial`;
  rmSync(partial, {force: true});
  await run(go, ['build', '-trimpath', '-o', partial, '.'], {cwd: SOURCE_DIR, env: {...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod -buildvcs=false'}, timeoutMs: 900_000});
  renameSync(partial, out);
}
