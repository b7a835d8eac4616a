import type {CertificateView} from './core/certificates.js';

/** The human form of a certificate (cert, status). */
export function renderCertificate(c: CertificateView): Record<string, unknown> {
  return {
    certificate: c.certificatePath,
    key: c.keyPath,
    'key id': c.keyId,
    serial: c.serial,
    principals: c.principals.join(', '),
    'valid from': c.validAfter,
    'valid until': `${c.validBefore} (${c.state === 'valid' ? `${formatRemaining(c.remainingSeconds)} left` : c.state})`,
    ...(Object.keys(c.criticalOptions).length > 0 ? {restrictions: Object.entries(c.criticalOptions).map(([k, v]) => `${k} ${v}`).join('; ')} : {}),
    extensions: c.extensions.join(', ') || '(none)',
  };
}

/** 1h5m, 12m30s, 45s. */
export function formatRemaining(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m > 0 ? `${m}m` : ''}` : m > 0 ? `${m}m${s > 0 ? `${s}s` : ''}` : `${s}s`;
}
