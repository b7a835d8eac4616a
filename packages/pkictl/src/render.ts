/** How request results are shown (light: no core imports; both back ends' results). */
import type {CommandContext, ResultWriter} from '@bcl/core';
import type {RequestResult} from './core/request.js';
import type {ServerRequestResult} from './core/server-ops.js';

export function renderRequest(ctx: CommandContext, r: RequestResult | ServerRequestResult, out: ResultWriter): void {
  const issued = 'serial' in r && r.serial ? r : undefined;
  out.keyValue({
    id: r.id,
    status: r.status,
    email: r.email,
    profile: r.profile,
    'key type': r.keyType,
    key: r.keyPath,
    ...(r.renews ? {renews: r.renews} : {}),
    ...(issued ? {serial: issued.serial!, 'not after': issued.notAfter ?? '', certificate: issued.certPath ?? '', chain: issued.chainPath ?? ''} : {}),
  });
  if (r.status === 'pending') {
    ctx.ui.info('serial' in r ? `Next: a PKI admin approves it (\`pkictl approve ${r.id}\`); then run \`pkictl fetch ${r.id}\`.` : `Next: a CA admin runs \`pkictl approve ${r.id}\`; then run \`pkictl fetch ${r.id}\`.`);
  }
}
