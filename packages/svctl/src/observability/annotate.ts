import type {CommandContext} from '@bcl/core';
import svctlNamespace from '../config.js';

/**
 * Marks a deploy on the service's Grafana dashboards (the "Deploys" annotation) when svctl.grafana
 * is configured; nothing otherwise. A Grafana problem is a warning: it never fails a deploy.
 * For `svctl deploy` and `svctl build --deploy`. Grafana's client loads only when it is configured:
 * a deploy without it does not pay for it after its result.
 */
export async function annotateDeploy(ctx: CommandContext, deploy: {service: string; environment: string; image: string; revision?: number | null}): Promise<boolean> {
  const grafana = ctx.config.namespace(svctlNamespace).grafana;
  if (!grafana) return false;
  const [{readToken}, {GrafanaApi}] = await Promise.all([import('@bcl/deploy-core/jenkins'), import('@bcl/deploy-core/observability')]);
  const http = ctx.http({retries: 1, timeoutMs: 10_000});
  try {
    const token = readToken('svctl.grafana', grafana, {env: ctx.env, cwd: ctx.cwd});
    ctx.redactor.add(token);
    await new GrafanaApi(http, {url: grafana.url.replace(/\/+$/, ''), token}).annotateDeploy(deploy);
    return true;
  } catch (error) {
    ctx.ui.warn(`the deploy was not marked on the Grafana dashboards: ${(error as Error).message}`);
    return false;
  } finally {
    await http.close();
  }
}
