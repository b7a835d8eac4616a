// A small server built the way BCL servers are: buildServer(deps) on createApp, routes with
// zod schemas, a core that throws typed errors.
import {z} from 'zod';
import {type ApiApp, conflict, createApp, type LogOptions, useProtocol, warningsField, protocolInfo, protocolInfoSchema, type ProtocolPolicy} from '../src/index.js';

export const widgetSchema = z.object({id: z.string(), name: z.string(), size: z.enum(['small', 'large']), tags: z.array(z.string())}).meta({id: 'Widget'});

export interface WidgetDeps {
  log?: LogOptions | false;
  bodyLimit?: number;
  policy?: ProtocolPolicy;
  /** Called by every handler that changes state (tests count it). */
  onChange?: (what: string) => void;
}

export async function buildServer(deps: WidgetDeps = {}): Promise<ApiApp> {
  const app = await createApp({title: 'widgets', version: '1.2.3', log: deps.log ?? false, ...(deps.bodyLimit ? {bodyLimit: deps.bodyLimit} : {})});
  if (deps.policy) useProtocol(app, deps.policy, {now: () => new Date('2026-11-01T00:00:00Z')});
  const widgets = new Map<string, z.output<typeof widgetSchema>>();
  if (deps.policy) {
    const policy = deps.policy;
    app.get('/v1/info', {config: {protocol: false}, schema: {response: {200: protocolInfoSchema.extend({version: z.string()})}}}, async () => ({version: '1.2.3', ...protocolInfo(policy)}));
  }
  app.post(
    '/v1/widgets',
    {
      schema: {
        body: z.strictObject({name: z.string().min(1), size: z.enum(['small', 'large']), tags: z.array(z.string()).optional(), spec: z.strictObject({colour: z.string()}).optional()}),
        response: {201: widgetSchema.extend({warnings: warningsField})},
      },
    },
    async (request, reply) => {
      if ([...widgets.values()].some((w) => w.name === request.body.name)) {
        throw conflict('widget_exists', `a widget named ${request.body.name} exists`, {hint: 'choose another name', details: {name: request.body.name}});
      }
      deps.onChange?.('create');
      const widget = {id: String(widgets.size + 1), name: request.body.name, size: request.body.size, tags: request.body.tags ?? [], internalNote: 'never sent'};
      widgets.set(widget.id, widget);
      return reply.code(201).send(widget);
    },
  );
  app.get(
    '/v1/widgets',
    {schema: {querystring: z.strictObject({limit: z.coerce.number().int().min(1).max(100).default(10), token: z.string().optional()}), response: {200: z.object({widgets: z.array(widgetSchema)})}}},
    async (request) => ({widgets: [...widgets.values()].slice(0, request.query.limit)}),
  );
  app.get('/v1/widgets/:id', {schema: {params: z.strictObject({id: z.string().regex(/^\d+$/)}), response: {200: widgetSchema}}}, async (request) => {
    const widget = widgets.get(request.params.id);
    if (!widget) throw Object.assign(new Error('widget store exploded: /var/lib/secret/path'), {});
    return widget;
  });
  return app;
}
