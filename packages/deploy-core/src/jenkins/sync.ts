import {invalidInput} from '@bcl/core/errors';
import type {ServiceSpec} from '../spec/index.js';
import type {JenkinsApi} from './api.js';
import {configDiff, renderJobConfig, sameJobConfig} from './job-config.js';

export interface SyncOutcome {
  jenkins: string;
  job: string;
  url: string;
  /** created: the job did not exist; updated: its configuration differed; unchanged: left alone. */
  action: 'created' | 'updated' | 'unchanged';
  dryRun: boolean;
  /** Lines that differ (- current, + wanted); empty when unchanged. */
  diff: string[];
}

/** The job name of a service: build.job of the spec, else the service name. */
export function jobName(spec: ServiceSpec): string {
  return spec.build.job ?? spec.name;
}

/** The config.xml svctl wants for the service's pipeline job. */
export function wantedJobConfig(spec: ServiceSpec, repositoryUrl: string | undefined, specFile: string): string {
  if (!repositoryUrl) {
    throw invalidInput('svctl.git_url_missing', `${specFile}: git.url is not set and the directory has no git remote`, {
      hint: 'Set git.url in service.yaml to the repository Jenkins should check out, or add an origin remote.',
      details: {key: 'git.url', file: specFile},
    });
  }
  return renderJobConfig({
    service: spec.name,
    team: spec.team,
    description: spec.description ? `${spec.description} (managed by svctl pipeline sync: edits here are overwritten)` : undefined,
    repositoryUrl,
    credentialsId: spec.build.credentialsId,
    defaultBranch: spec.git.branch,
    scriptPath: spec.build.jenkinsfile,
  });
}

/**
 * Creates the job when it does not exist, updates it when its configuration differs from the
 * wanted one (compared as normalised XML), and otherwise leaves it alone.
 */
export async function syncPipeline(api: JenkinsApi, job: string, wanted: string, options: {dryRun: boolean}): Promise<SyncOutcome> {
  const base = {jenkins: api.server.name, job, url: api.jobUrl(job), dryRun: options.dryRun};
  const current = await api.jobConfig(job);
  if (current === undefined) {
    if (!options.dryRun) await api.createJob(job, wanted);
    return {...base, action: 'created', diff: configDiff('', wanted)};
  }
  if (sameJobConfig(current, wanted)) return {...base, action: 'unchanged', diff: []};
  if (!options.dryRun) await api.updateJobConfig(job, wanted);
  return {...base, action: 'updated', diff: configDiff(current, wanted)};
}
