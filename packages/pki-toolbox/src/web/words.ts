/** The words the pages use for what the server says: plain, and saying what to do. */
import {ApiError, type CertificateSummary} from './api.js';

const WORK_ACCOUNT = 'Sign in with your work account (the one with your company email address).';

/** Why a sign-in was refused, from the code the server put in the return address. */
export function signInProblem(code: string, serverMessage?: string): {title: string; text: string} {
  switch (code) {
    case 'hd_missing':
    case 'hd_not_allowed':
    case 'email_domain':
      return {title: 'That account is not a company account', text: `You signed in with an account outside the company. ${WORK_ACCOUNT}`};
    case 'email_unverified':
      return {title: 'Your email address is not confirmed yet', text: 'Your account provider has not confirmed your email address. Confirm it with them (look for their confirmation email), then sign in again.'};
    case 'email_missing':
      return {title: 'Your email address was not shared', text: 'Sign in again and allow the Toolbox to see your email address: your certificate is made for it.'};
    case 'login_expired':
      return {title: 'The sign-in took too long', text: 'Sign in again; it takes a few seconds.'};
    default:
      return {title: 'Sign-in did not complete', text: serverMessage ? `${serverMessage} Try again; if it keeps failing, ask the IT help desk.` : 'Try again; if it keeps failing, ask the IT help desk.'};
  }
}

/** What to tell a person when a call failed. */
export function problemText(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong in this page. Reload it and try again.';
  switch (error.code) {
    case 'unreachable':
      return 'The Toolbox cannot reach its server. Check your network connection (you may need to be in the office or on another network), then try again.';
    case 'not_signed_in':
    case 'session_expired':
      return 'Your sign-in has ended. Sign in again, then repeat the last step.';
    case 'csrf_token_invalid':
      return 'This page is out of date. Reload it and try again.';
    case 'rate_limited':
      return 'Too many attempts in a short time. Wait a minute, then try again.';
    case 'renewal_signature_invalid':
    case 'renewal_mismatch':
      return 'That file does not belong to this device. Choose the VPN file you downloaded for this device.';
    case 'not_admin':
      return 'This page is for PKI administrators. Your account is not one of them.';
    default:
      return `${error.message.replace(/^./, (c) => c.toUpperCase())}${/[.!?]$/.test(error.message) ? '' : '.'}${error.hint ? ` ${error.hint}` : ''}`;
  }
}

/** What a certificate is for, in a person's words. */
export function purposeOf(profile: string): string {
  switch (profile) {
    case 'vpn':
      return 'VPN access';
    case 'client':
      return 'Signing in to company services';
    case 'server':
      return 'Server (websites and services)';
    default:
      return profile.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());
  }
}

const DAY = 86_400_000;

export function daysLeft(notAfter: string, now: Date): number {
  return Math.ceil((new Date(notAfter).getTime() - now.getTime()) / DAY);
}

/** "expires in 12 days", "expires today", "expired on 3 March 2026". */
export function expiryText(c: Pick<CertificateSummary, 'notAfter' | 'status' | 'revokedAt'> & {reason?: string | null}, now: Date): string {
  if (c.status === 'revoked' && c.reason === 'superseded') return `Replaced by a renewal on ${formatDate(c.revokedAt ?? c.notAfter)}`;
  if (c.status === 'revoked') return `Stopped working on ${formatDate(c.revokedAt ?? c.notAfter)}`;
  const days = daysLeft(c.notAfter, now);
  if (c.status === 'expired' || days <= 0) return `Expired on ${formatDate(c.notAfter)}`;
  if (days === 1) return 'Expires tomorrow';
  return `Expires in ${days} days`;
}

/** Renewal is offered in the last 30 days, or the last third of a short lifetime. */
export function renewable(c: Pick<CertificateSummary, 'notAfter' | 'notBefore' | 'status'>, now: Date): boolean {
  if (c.status !== 'valid') return false;
  const left = new Date(c.notAfter).getTime() - now.getTime();
  const lifetime = new Date(c.notAfter).getTime() - new Date(c.notBefore).getTime();
  return left > 0 && left <= Math.min(30 * DAY, lifetime / 3);
}

export function formatDate(iso: string): string {
  return new Date(iso).toLocaleDateString('en-GB', {day: 'numeric', month: 'long', year: 'numeric'});
}

export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', {day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit'});
}

export const REVOCATION_REASONS: {value: string; label: string}[] = [
  {value: 'keyCompromise', label: 'The key may be in someone else\'s hands (lost or stolen device)'},
  {value: 'affiliationChanged', label: 'The person left or changed role'},
  {value: 'superseded', label: 'Replaced by a newer certificate'},
  {value: 'cessationOfOperation', label: 'No longer needed'},
  {value: 'privilegeWithdrawn', label: 'Access withdrawn'},
  {value: 'unspecified', label: 'Other reason'},
];
