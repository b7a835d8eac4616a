import {type BclError, toBclError} from '@bcl/core/errors';
import type {DeployService, OperationError, OperationState} from '../api.js';
import {type DeployEngine, type EngineRun, SVAPP_CLUSTERS} from '../engine.js';
import {operationError} from '../errors.js';
import type {OperationRow} from './store.js';

/** How an operation ended: its state, and its result or error as the terminal event carries them. */
export interface Outcome {
  state: OperationState;
  result?: unknown;
  error?: OperationError;
}

/** The catalog specs an operation was accepted with (kept with it, so a takeover runs the same). */
export type CatalogCopies = Record<string, {file: string; text: string}>;

/**
 * Runs an operation's work on the engine and says how it ended, with the verdicts svctl's direct
 * mode reaches for the same results (runDeploy's, the rollback's, the build's), so a client
 * exits as it would have on its own.
 */
export async function executeOperation(op: OperationRow, run: EngineRun, engine: DeployEngine): Promise<Outcome> {
  const {deployResult, deployFailure, deployTarget, rollbackFailure} = await import('@bcl/deploy-core/deploy');
  const {parseSpec, resolveEnvironment} = await import('@bcl/deploy-core/spec');
  const failed = (error: BclError): Outcome => ({state: 'failed', error: operationError(error)});
  const request = op.request;
  const catalog = (request.catalog ?? {}) as CatalogCopies;
  try {
    if (op.kind === 'deploy') {
      const started = Date.now();
      const services = request.services as DeployService[];
      const targets = services.map((s) => deployTarget(parseSpec(s.spec, s.file), s.file, {environment: run.environment, clusters: engine.clusters, imageTag: s.imageTag, gitSha: s.gitSha}));
      const results = await engine.deploy(targets, run);
      const result = deployResult(run.environment, results, Date.now() - started);
      const failure = deployFailure(result);
      return failure ? failed(failure) : {state: 'succeeded', result};
    }
    if (op.kind === 'rollback') {
      const specs = op.services.map((name) => resolveEnvironment(parseSpec(catalog[name]!.text, catalog[name]!.file), run.environment, engine.clusters, SVAPP_CLUSTERS));
      const services = await engine.rollback(specs, run, request.to === undefined ? undefined : Number(request.to));
      const result = {environment: run.environment, services};
      const failure = rollbackFailure(result);
      return failure ? failed(failure) : {state: 'succeeded', result};
    }
    const name = op.services[0]!;
    const spec = parseSpec(catalog[name]!.text, catalog[name]!.file);
    const outcome = await engine.build({
      spec,
      jenkins: request.jenkins as string | undefined,
      parameters: {GIT_SHA: String(request.gitSha), IMAGE_TAG: String(request.imageTag), ENV: String(request.environment ?? '')},
      follow: request.follow !== false,
      signal: run.signal,
      events: run.events,
    });
    return {state: 'succeeded', result: {...outcome, image: `${spec.image}:${String(request.imageTag)}`}};
  } catch (error) {
    return failed(toBclError(error));
  }
}
