import {connect} from 'node:net';
import {type CommandContext, type DoctorCheck, type DoctorContribution, programCheck} from '@bcl/core';
import dbctlNamespace, {type DbctlSettings} from './config.js';

/** dbctl's checks in `bcl doctor`: terraform or tofu and its version, and each connection's server answering. */
const doctor: DoctorContribution = async (ctx: CommandContext) => {
  const settings = ctx.config.namespace(dbctlNamespace) as DbctlSettings;
  const checks: DoctorCheck[] = [];
  const configured = settings.terraform.binary;
  const parse = (out: string) => out.match(/(?:Terraform|OpenTofu) v(\d+\.\d+\.\d+)/)?.[1];
  if (configured) {
    checks.push(await programCheck(ctx, {name: 'dbctl.terraform', command: configured, args: ['version'], required: true, purpose: 'by dbctl plan/provision', parse, minimum: /tofu/.test(configured) ? '1.6.0' : '1.5.0'}));
  } else {
    const terraform = await programCheck(ctx, {name: 'dbctl.terraform', command: 'terraform', args: ['version'], purpose: 'by dbctl plan/provision', parse, minimum: '1.5.0'});
    if (terraform.status === 'ok' || terraform.message !== 'not installed') checks.push(terraform);
    else {
      const tofu = await programCheck(ctx, {name: 'dbctl.terraform', command: 'tofu', args: ['version'], purpose: 'by dbctl plan/provision (terraform or tofu)', parse, minimum: '1.6.0'});
      checks.push(tofu.status === 'ok' ? {...tofu, message: `tofu ${tofu.message}`} : {...terraform, hint: 'dbctl plan/provision need Terraform >= 1.5 or OpenTofu >= 1.6; direct administration works without.'});
    }
  }
  checks.push(await backendCheck(ctx, settings));
  for (const [name, c] of Object.entries(settings.connections)) {
    const port = c.port ?? (c.engine === 'postgres' ? 5432 : 3306);
    checks.push(await tcpCheck(`dbctl.connections.${name}`, c.host, port));
  }
  return checks;
};

/** Where dbctl keeps Terraform state; for pg, that the state database answers (the connection string is never shown). */
async function backendCheck(ctx: CommandContext, settings: DbctlSettings): Promise<DoctorCheck> {
  const name = 'dbctl.backend';
  const b = settings.backend;
  if (b.type === 'local') return {name, status: 'ok', message: `local state ${b.dir ? `under ${b.dir}` : 'in each work directory'}`};
  if (b.type === 'gcs') return {name, status: 'ok', message: `gcs: gs://${b.bucket}/${b.prefix ? `${b.prefix.replace(/\/$/, '')}/` : ''}dbctl/<instance>`};
  if (b.type === 's3') return {name, status: 'ok', message: `s3: s3://${b.bucket}/${b.keyPrefix ? `${b.keyPrefix.replace(/\/$/, '')}/` : ''}dbctl/<instance> (${b.region})`};
  const {pgConnStr, describeConnStr} = await import('./terraform/backend.js');
  let connStr: string;
  try {
    connStr = pgConnStr(b, {env: ctx.env, redactor: ctx.redactor, originOf: (key) => ctx.config.entry(key)?.origin});
  } catch (error) {
    return {name, status: 'fail', message: (error as Error).message, hint: (error as {hint?: string}).hint ?? 'Set dbctl.backend.connStrEnv, connStrFile or connStr.'};
  }
  const {pgClientConfig} = await import('./terraform/lock.js');
  const pg = ((await import('pg')) as unknown as {default: typeof import('pg')}).default;
  const client = new pg.Client({...pgClientConfig(connStr), connectionTimeoutMillis: 5000});
  client.on('error', () => undefined);
  try {
    await client.connect();
    const version = (await client.query('SHOW server_version')).rows[0]?.server_version as string;
    return {name, status: 'ok', message: `pg: ${describeConnStr(connStr)} answers (PostgreSQL ${version}); one schema per instance, ${b.schemaPrefix}<instance>`};
  } catch (error) {
    return {name, status: 'fail', message: `pg: ${describeConnStr(connStr)}: ${ctx.redactor.redact((error as Error).message)}`, hint: 'Check the connection string (its host, port, user and password, and sslmode) and that the server runs.'};
  } finally {
    await client.end().catch(() => undefined);
  }
}

function tcpCheck(name: string, host: string, port: number): Promise<DoctorCheck> {
  return new Promise((resolve) => {
    const socket = connect({host, port, timeout: 3000});
    const done = (check: DoctorCheck) => {
      socket.destroy();
      resolve(check);
    };
    socket.once('connect', () => done({name, status: 'ok', message: `${host}:${port} accepts connections`}));
    socket.once('timeout', () => done({name, status: 'warn', message: `${host}:${port} did not answer within 3s`, hint: 'Check the host and port, and your network path to it.'}));
    socket.once('error', (e) => done({name, status: 'warn', message: `${host}:${port}: ${e.message}`, hint: 'Check the host and port, and that the server is running.'}));
  });
}

export default doctor;
