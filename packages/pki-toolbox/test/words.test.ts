/** The pages' words for dates, systems and refusals (pure functions of the browser code). */
import {describe, expect, it} from 'vitest';
import {ApiError} from '../src/web/api.js';
import {defaultDeviceLabel, detectOs, installSteps} from '../src/web/os.js';
import {daysLeft, expiryText, problemText, purposeOf, renewable, signInProblem} from '../src/web/words.js';

const now = new Date('2026-03-01T12:00:00Z');
const at = (days: number) => new Date(now.getTime() + days * 86_400_000).toISOString();

describe('the words of the pages', () => {
  it('expiry in days, renewal only near the end, revoked and replaced said as such', () => {
    const c = {notBefore: at(-78), notAfter: at(12), status: 'valid' as const, revokedAt: null};
    expect(expiryText(c, now)).toBe('Expires in 12 days');
    expect(daysLeft(c.notAfter, now)).toBe(12);
    expect(renewable(c, now)).toBe(true);
    expect(renewable({...c, notAfter: at(60)}, now)).toBe(false);
    expect(expiryText({...c, notAfter: at(0.5)}, now)).toBe('Expires tomorrow');
    expect(expiryText({...c, notAfter: at(-2)}, now)).toBe('Expired on 27 February 2026');
    expect(renewable({...c, notAfter: at(-2)}, now)).toBe(false);
    expect(expiryText({...c, status: 'revoked', revokedAt: at(-1)}, now)).toBe('Stopped working on 28 February 2026');
    expect(expiryText({...c, status: 'revoked', revokedAt: at(-1), reason: 'superseded'}, now)).toBe('Replaced by a renewal on 28 February 2026');
    expect(renewable({...c, status: 'revoked'}, now)).toBe(false);
    // A short lifetime is renewable in its last third only.
    expect(renewable({notBefore: at(-1), notAfter: at(8), status: 'valid'}, now)).toBe(false);
    expect(renewable({notBefore: at(-7), notAfter: at(2), status: 'valid'}, now)).toBe(true);
  });

  it('the system, its device name and install steps from the browser', () => {
    expect(detectOs('Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Win32')).toBe('windows');
    expect(detectOs('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)', 'MacIntel')).toBe('macos');
    expect(detectOs('Mozilla/5.0 (X11; Linux x86_64)', 'Linux x86_64')).toBe('linux');
    expect(defaultDeviceLabel('macos')).toBe('Mac');
    for (const os of ['windows', 'macos', 'linux'] as const) {
      const steps = installSteps(os, 'berlin-office.ovpn');
      expect(steps.length).toBeGreaterThanOrEqual(2);
      expect(steps.join(' ')).toContain('berlin-office.ovpn');
    }
  });

  it('refusals and failures in plain words that say what to do', () => {
    for (const code of ['hd_missing', 'hd_not_allowed', 'email_domain']) expect(signInProblem(code).text).toContain('Sign in with your work account');
    expect(signInProblem('email_unverified').title).toBe('Your email address is not confirmed yet');
    expect(signInProblem('login_expired').text).toContain('Sign in again');
    expect(signInProblem('token_audience', 'the ID token is for x.').text).toContain('Try again');
    expect(problemText(new ApiError(0, 'unreachable', 'x'))).toContain('Check your network connection');
    expect(problemText(new ApiError(401, 'session_expired', 'x'))).toContain('Sign in again');
    expect(problemText(new ApiError(403, 'renewal_signature_invalid', 'x'))).toContain('Choose the VPN file you downloaded for this device');
    expect(problemText(new ApiError(409, 'conflict', 'certificate 01 is revoked', 'Get a new one.'))).toBe('Certificate 01 is revoked. Get a new one.');
    expect(problemText(new TypeError('boom'))).toContain('Reload it and try again');
    expect(purposeOf('vpn')).toBe('VPN access');
    expect(purposeOf('build-agent')).toBe('Build agent');
  });
});
