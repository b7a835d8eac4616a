import type {ApiApp} from './app.js';
import {checkOpenApi, type OpenApiCheck} from './openapi-check.js';

/** The app's OpenAPI 3.1 document, generated from its routes' zod schemas. */
export async function openApiDocument(app: ApiApp): Promise<Record<string, unknown>> {
  await app.ready();
  return JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
}

/**
 * For a server's test: generate the document and check it against the committed file; throws
 * with the list of incompatible changes (or the regenerate instruction), so `./scripts/test`
 * fails on an incompatible change.
 */
export async function assertOpenApiCompatible(app: ApiApp, file: string): Promise<OpenApiCheck> {
  const result = checkOpenApi(await openApiDocument(app), file);
  if (!result.ok) throw new Error(result.message);
  return result;
}
