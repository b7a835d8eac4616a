import type {CommandContext} from '@bcl/core';

/** `svctl.server`: where svapp is and how svctl authenticates to it. */
export interface ServerSettings {
  url: string;
  ca?: string | undefined;
  certificate?: string | {cert: string; key: string} | undefined;
}

/** svapp's settings when svctl works through it (server mode), else undefined (direct mode). */
export function serverSettings(ctx: CommandContext): ServerSettings | undefined {
  const server = ctx.config.get('svctl.server') as ServerSettings | undefined;
  return server?.url ? {...server, url: server.url.replace(/\/+$/, '')} : undefined;
}

/** Says which mode a command runs in (shown with --verbose). */
export function describeMode(ctx: CommandContext): string {
  const server = serverSettings(ctx);
  return server ? `server mode: through svapp at ${server.url} (svctl.server)` : 'direct mode: the clusters of svctl.clusters, with your kubeconfig credentials';
}
