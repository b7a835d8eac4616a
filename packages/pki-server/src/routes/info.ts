/** GET /v1/info (what a client needs before signing in) and GET /v1/vpn-servers (for the Toolbox). */
import {type ApiApp, protocolInfo, protocolInfoSchema} from '@bcl/http-api';
import {profileApproval} from '@bcl/pki-ca/policy';
import {infoSchema, vpnServersSchema} from '../api.js';
import {PROTOCOL, type RouteContext} from '../server.js';

export function infoRoutes(app: ApiApp, ctx: RouteContext): void {
  app.get(
    '/v1/info',
    {config: {protocol: false} as never, schema: {tags: ['info'], summary: 'The server, its CA, how to sign in, and the profiles it issues (no sign-in needed)', response: {200: infoSchema.extend(protocolInfoSchema.shape)}}},
    async () => {
      const {policy} = await ctx.policies.current();
      return {
        name: 'pki-server' as const,
        version: ctx.version,
        ...protocolInfo(PROTOCOL),
        ca: {subject: ctx.ca.issuer.subject.replace(/\n/g, ', '), fingerprint: ctx.ca.rootFingerprint, chainUrl: `${ctx.publicUrl.replace(/\/$/, '')}/ca.pem`},
        oidc: {
          issuer: ctx.oidc.issuer,
          clientId: ctx.oidc.cli.clientId,
          clientSecret: ctx.oidc.cli.clientSecret ?? null,
          scopes: ['openid', 'email', 'profile'],
          browserSignIn: ctx.oidc.web !== undefined,
        },
        revocation: {
          crlUrl: policy.revocation.crlUrl ?? ctx.revocation.crlUrl,
          ocspUrl: policy.revocation.ocspUrl ?? ctx.revocation.ocspUrl,
          caCertUrl: policy.revocation.caCertUrl ?? ctx.revocation.caCertUrl,
        },
        profiles: Object.entries(policy.profiles).map(([name, p]) => ({name, description: p.description ?? null, approval: profileApproval(p), maxLifetimeDays: p.maxLifetimeDays, groups: p.groups})),
      };
    },
  );

  app.get('/v1/vpn-servers', {schema: {tags: ['info'], summary: 'The VPN servers people may connect to (the Toolbox offers them)', response: {200: vpnServersSchema}}}, async () => ({
    servers: ctx.vpnServers.map((s) => {
      const i = s.remote.lastIndexOf(':');
      return {name: s.name, location: s.location ?? null, host: s.remote.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(s.remote.slice(i + 1)), proto: s.proto, profile: s.profile};
    }),
  }));
}
