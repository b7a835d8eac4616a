import type {CommandContext, DoctorCheck, DoctorContribution} from '@bcl/core';

/**
 * svctl's checks in `bcl doctor`: which mode it works in and, through svapp, whether svapp
 * answers, whether this svctl and svapp speak a common protocol (or svapp deprecates or refuses
 * this version), and which PKI certificate svctl authenticates with.
 */
const doctor: DoctorContribution = async (ctx: CommandContext) => {
  const {describeMode, serverSettings} = await import('./remote/settings.js');
  const settings = serverSettings(ctx);
  const checks: DoctorCheck[] = [{name: 'svctl.mode', status: 'ok', message: describeMode(ctx)}];
  if (!settings) return checks;
  const {CLIENT_PROTOCOL} = await import('./remote/client.js');
  const {readFileSync} = await import('node:fs');
  let ca: string | undefined;
  try {
    ca = settings.ca ? readFileSync(settings.ca, 'utf8') : undefined;
  } catch (error) {
    checks.push({name: 'svctl.server.ca', status: 'fail', message: `cannot read ${settings.ca}: ${(error as Error).message}`});
  }
  const http = ctx.http({timeoutMs: 5000, retries: 0, ...(ca ? {tls: {ca}} : {})});
  try {
    const res = await http.request(`${settings.url}/v1/info`, {headers: {accept: 'application/json'}});
    const info = (await res.json()) as import('@bcl/svapp/api').ServerInfo;
    if (res.status !== 200) throw new Error(`GET /v1/info answered ${res.status}`);
    const semver = await import('semver');
    const tooOld = info.minClientVersion && semver.lt(ctx.version, info.minClientVersion);
    const noCommon = CLIENT_PROTOCOL.max < info.protocol.min || CLIENT_PROTOCOL.min > info.protocol.current;
    const deprecated = info.deprecations.filter((d) => (d.clientBelow && semver.lt(ctx.version, d.clientBelow)) || (d.protocolBelow !== undefined && CLIENT_PROTOCOL.max < d.protocolBelow));
    checks.push(
      tooOld || noCommon
        ? {name: 'svctl.server', status: 'fail', message: `svapp ${info.version} at ${settings.url} refuses svctl ${ctx.version} (it needs ${tooOld ? `svctl ${info.minClientVersion}` : `protocol ${info.protocol.min}-${info.protocol.current}`})`, hint: 'Upgrade: svctl update.'}
        : deprecated.length > 0
          ? {name: 'svctl.server', status: 'warn', message: `svapp ${info.version} at ${settings.url}: ${deprecated.map((d) => `${d.message}${d.sunset ? ` (until ${d.sunset})` : ''}`).join('; ')}`, hint: 'Upgrade: svctl update.'}
          : {name: 'svctl.server', status: 'ok', message: `svapp ${info.version} at ${settings.url}, protocol ${Math.min(CLIENT_PROTOCOL.max, info.protocol.current)} (svapp speaks ${info.protocol.min}-${info.protocol.current}; replica ${info.replica})`},
    );
  } catch (error) {
    checks.push({name: 'svctl.server', status: 'fail', message: `${settings.url}: ${(error as Error).message}`, hint: 'Check svctl.server.url, and svctl.server.ca if svapp uses a private CA.'});
  } finally {
    await http.close();
  }
  try {
    const {clientCertificate} = await import('./remote/identity.js');
    const id = await clientCertificate(ctx, settings);
    checks.push({name: 'svctl.server.certificate', status: 'ok', message: id.description});
  } catch (error) {
    checks.push({name: 'svctl.server.certificate', status: 'fail', message: (error as Error).message, hint: (error as {hint?: string}).hint ?? 'Get one with pkictl request and pkictl fetch.'});
  }
  return checks;
};

export default doctor;
