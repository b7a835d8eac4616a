import type {CommandContext, DoctorCheck, DoctorContribution} from '@bcl/core';
import pkictlNamespace from './config.js';

const WARN_DAYS = 14;

/** pkictl's checks for `bcl doctor`: the store is reachable, and local certificates are not about to expire. */
const doctor: DoctorContribution = async (ctx: CommandContext) => {
  const settings = ctx.config.namespace(pkictlNamespace);
  const checks: DoctorCheck[] = [];
  if (!settings.store) {
    checks.push({name: 'pkictl.store', status: 'warn', message: 'not set', hint: 'bcl config set pkictl.store <path or git URL of the PKI repository>'});
  } else {
    const res = await ctx.runner.run('git', ['ls-remote', '--heads', settings.store], {reject: false, timeoutMs: 15_000, env: {GIT_TERMINAL_PROMPT: '0'}}).catch((e: Error) => ({exitCode: 1, stderr: e.message, stdout: ''}));
    checks.push(
      res.exitCode === 0
        ? {name: 'pkictl.store', status: 'ok', message: `${settings.store} reachable`}
        : {name: 'pkictl.store', status: 'fail', message: `${settings.store}: ${res.stderr.split('\n')[0] || `git exited ${res.exitCode}`}`, hint: 'Check the store URL and your access to it.'},
    );
  }
  if (settings.store) {
    checks.push(
      settings.caFingerprint
        ? {name: 'pkictl.caFingerprint', status: 'ok', message: `the store's CA is pinned (SHA-256 ${settings.caFingerprint})`}
        : {name: 'pkictl.caFingerprint', status: 'warn', message: 'the store\'s CA is not pinned yet', hint: 'Run `pkictl list` on a terminal and compare the fingerprint with the one your CA admin published, or `bcl config set pkictl.caFingerprint <fingerprint>`.'},
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
