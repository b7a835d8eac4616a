import type {CommandContext} from '@bcl/core';
import svctlNamespace from '../config.js';
import {findSpecFile, type LoadedSpec, loadSpec} from '@bcl/deploy-core/spec';
import {JenkinsApi} from '@bcl/deploy-core/jenkins';
import {resolveJenkinsServer} from '@bcl/deploy-core/jenkins';
import {jobName} from '@bcl/deploy-core/jenkins';

/** What the Jenkins commands share: the spec, the job name and a connected client. */
export interface PipelineContext {
  loaded: LoadedSpec;
  job: string;
  api: JenkinsApi;
}

export async function pipelineContext(ctx: CommandContext, options: {spec?: string | undefined; jenkins?: string | undefined}): Promise<PipelineContext> {
  const loaded = loadSpec(findSpecFile(ctx.cwd, options.spec));
  const settings = ctx.config.namespace(svctlNamespace);
  const server = resolveJenkinsServer(settings, {name: options.jenkins ?? loaded.spec.build.jenkins, env: ctx.env, cwd: ctx.cwd, redactor: ctx.redactor});
  // The Authorization header's value too, should anything ever echo it.
  ctx.redactor.add(Buffer.from(`${server.user}:${server.token}`).toString('base64'));
  // bcl's proxy settings for the client and the console log alike; retries are JenkinsApi's.
  const api = await JenkinsApi.connect(server, {signal: ctx.signal, env: ctx.env, http: ctx.http({retries: 0})});
  return {loaded, job: jobName(loaded.spec), api};
}
