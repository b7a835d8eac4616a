import type {CommandContext, DoctorCheck, DoctorContribution} from '@bcl/core';
import pkictlNamespace from './config.js';

const WARN_DAYS = 14;

/** pkictl's checks for `bcl doctor`: the store is reachable, and local certificates are not about to expire. */
const doctor: DoctorContribution = async (ctx: CommandContext) => {
  const settings = ctx.config.namespace(pkictlNamespace);
  const checks: DoctorCheck[] = [];
  if (settings.server) {
    const res = await ctx
      .http({retries: 0, timeoutMs: 10_000})
      .request(`${settings.server.replace(/\/+$/, '')}/v1/info`)
      .then((r) => ({ok: r.status === 200, text: `answered ${r.status}`}))
      .catch((e: Error) => ({ok: false, text: e.message}));
    checks.push(res.ok ? {name: 'pkictl.server', status: 'ok', message: `${settings.server} reachable`} : {name: 'pkictl.server', status: 'fail', message: `${settings.server}: ${res.text}`, hint: 'Check pkictl.server and your network.'});
  } else if (!settings.store) {
    checks.push({name: 'pkictl.server', status: 'warn', message: 'neither pkictl.server nor pkictl.store is set', hint: 'bcl config set pkictl.server https://pki.example.com (or pkictl.store for a Git store)'});
  } else {
    const res = await ctx.runner.run('git', ['ls-remote', '--heads', settings.store], {reject: false, timeoutMs: 15_000, env: {GIT_TERMINAL_PROMPT: '0'}}).catch((e: Error) => ({exitCode: 1, stderr: e.message, stdout: ''}));
    checks.push(
      res.exitCode === 0
        ? {name: 'pkictl.store', status: 'ok', message: `${settings.store} reachable`}
        : {name: 'pkictl.store', status: 'fail', message: `${settings.store}: ${res.stderr.split('\n')[0] || `git exited ${res.exitCode}`}`, hint: 'Check the store URL and your access to it.'},
    );
  }
  if (settings.store || settings.server) {
    checks.push(
      settings.caFingerprint
        ? {name: 'pkictl.caFingerprint', status: 'ok', message: `the PKI's CA is pinned (SHA-256 ${settings.caFingerprint})`}
        : {name: 'pkictl.caFingerprint', status: 'warn', message: 'the PKI\'s CA is not pinned yet', hint: 'Run `pkictl list` on a terminal and compare the fingerprint with the one your CA admin published, or `bcl config set pkictl.caFingerprint <fingerprint>`.'},
    );
  }
  const {listCredentials} = await import('@bcl/pki-local');
  const now = ctx.now();
  const soon = new Date(now.getTime() + WARN_DAYS * 86_400_000);
  for (const c of listCredentials({env: ctx.env, now})) {
    if (c.state !== 'valid' || !c.notAfter) continue;
    checks.push(
      c.notAfter < soon
        ? {name: `pkictl certificate ${c.serial}`, status: 'warn', message: `${c.email} (${c.profile}) expires ${c.notAfter.toISOString()}`, hint: `pkictl renew ${c.serial}`}
        : {name: `pkictl certificate ${c.serial}`, status: 'ok', message: `${c.email} (${c.profile}) valid until ${c.notAfter.toISOString()}`},
    );
  }
  return checks;
};

export default doctor;
