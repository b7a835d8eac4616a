import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {type CommandContext, type DoctorCheck, type DoctorContribution, programCheck} from '@bcl/core';

/**
 * csshctl's checks in `bcl doctor`: ssh, the service answering over TLS, the PKI certificate to
 * use, and on a host the status cssh-daemon recorded (the same report as `cssh-daemon status`).
 */
const doctor: DoctorContribution = async (ctx: CommandContext) => {
  const {runtimeSettings} = await import('./core/settings.js');
  const {loadClientIdentity} = await import('./core/identity.js');
  const settings = runtimeSettings(ctx);
  const checks: DoctorCheck[] = [await programCheck(ctx, {name: 'csshctl.ssh', command: settings.ssh, args: ['-V'], purpose: 'by csshctl ssh and agent-add', parse: (o) => /OpenSSH_([\w.]+)/.exec(o)?.[1]})];
  checks.push(...(await hostDaemonChecks(settings.daemonState, ctx.now())));
  if (!settings.server) return checks;
  let ca: string | undefined;
  try {
    ca = settings.serverCa ? readFileSync(settings.serverCa, 'utf8') : undefined;
  } catch (error) {
    checks.push({name: 'csshctl.serverCa', status: 'fail', message: `cannot read ${settings.serverCa}: ${(error as Error).message}`});
  }
  const http = ctx.http({timeoutMs: 5000, retries: 0, ...(ca ? {tls: {ca}} : {})});
  try {
    const res = await http.request(`${settings.server}/healthz`);
    const body = await res.text();
    checks.push(res.status === 200 ? {name: 'csshctl.server', status: 'ok', message: `${settings.server} answers` } : {name: 'csshctl.server', status: 'fail', message: `${settings.server}/healthz answered ${res.status}: ${body.slice(0, 120)}`});
  } catch (error) {
    checks.push({name: 'csshctl.server', status: 'fail', message: (error as Error).message, hint: 'Check csshctl.server, and csshctl.serverCa if the service uses a private CA.'});
  } finally {
    await http.close();
  }
  try {
    const id = await loadClientIdentity({
      settings,
      env: ctx.env,
      now: ctx.now(),
      passphrase: async () => {
        throw Object.assign(new Error('encrypted'), {code: 'csshctl.no_passphrase'});
      },
      secret: (s) => ctx.redactor.add(s),
    });
    const days = id.notAfter ? Math.floor((id.notAfter.getTime() - ctx.now().getTime()) / 86_400_000) : undefined;
    checks.push(
      days !== undefined && days < 7
        ? {name: 'csshctl.certificate', status: 'warn', message: `${id.description} expires in ${days} day(s)`, hint: 'Renew it with pkictl renew.'}
        : {name: 'csshctl.certificate', status: 'ok', message: `${id.description}${days !== undefined ? `, ${days} days left` : ''}`},
    );
  } catch (error) {
    const encrypted = (error as {code?: string}).code === 'csshctl.no_passphrase';
    checks.push(encrypted ? {name: 'csshctl.certificate', status: 'ok', message: 'found (its key is encrypted)'} : {name: 'csshctl.certificate', status: 'fail', message: (error as Error).message, hint: (error as {hint?: string}).hint ?? 'Get one with pkictl request and pkictl fetch.'});
  }
  return checks;
};

/** cssh-daemon's status on this host: nothing where it never ran, unless csshctl.daemonState says it should have. */
async function hostDaemonChecks(state: {dir: string; configured: boolean}, now: Date): Promise<DoctorCheck[]> {
  const {assessDaemonStatus, readDaemonStatus, STATUS_FILE} = await import('@bcl/cssh-daemon/status');
  const read = readDaemonStatus(join(state.dir, STATUS_FILE));
  if ('missing' in read) {
    return state.configured ? [{name: 'cssh-daemon', status: 'fail', message: read.missing, hint: 'Start it: systemctl enable --now cssh-daemon (cssh-authz host-setup prints its unit).'}] : [];
  }
  return assessDaemonStatus(read.status, now).checks;
}

export default doctor;
