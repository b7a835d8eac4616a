import {BclCommand, invalidInput, type ResultWriter, usageError} from '@bcl/core';
import {envFlag, imageTagFlag, specArgs} from '../cli/flags.js';
import {clustersOf, environmentOf, loadSpecs} from '../cli/inputs.js';
import type {KubeObject} from '@bcl/deploy-core/render';
import {toYaml} from '@bcl/deploy-core/render';

export interface RenderResult {
  environment: string;
  services: {service: string; namespace: string; image: string; objects: KubeObject[]}[];
}

export default class Render extends BclCommand<typeof Render> {
  // Changes nothing: still runs on an installed version below its channel's minimumVersion.
  static override allowedBelowMinimumVersion = true;
  static override summary = 'Print the Kubernetes manifests of a service for an environment, as YAML.';
  static override description =
    'Deployment, Service, ServiceAccount, ConfigMap (env), PodDisruptionBudget, HorizontalPodAutoscaler (when replicas has min/max) and Ingress (when routes are given), in apply order, each with the standard labels. The output is what `svctl deploy` applies; `kubectl apply --server-side -f -` accepts it.';
  static override examples = ['<%= config.bin %> render --env staging', '<%= config.bin %> render --env prod --image-tag 1.4.2 | kubectl apply --server-side --dry-run=server -f -'];
  static override strict = false;
  static override args = specArgs;
  static override flags = {env: envFlag, 'image-tag': imageTagFlag};
  static override configFlags = {env: 'svctl.defaultEnv'};

  async run(): Promise<RenderResult> {
    const {argv} = await this.parse(Render);
    const environment = environmentOf(this.ctx);
    const {resolveEnvironment, headCommit} = await import('@bcl/deploy-core/spec');
    const {renderService, isValidImageTag} = await import('@bcl/deploy-core/render');
    const specs = loadSpecs(this.ctx.cwd, argv as string[], this.ctx.validations);
    const clusters = clustersOf(this.ctx);
    const services = [];
    for (const {spec, dir} of specs) {
      let tag = this.flags['image-tag'];
      if (tag === undefined) {
        const commit = await headCommit(dir);
        if (!commit) throw usageError(`${dir} is not in a git checkout with a commit, so there is no default image tag: pass --image-tag`);
        tag = commit;
      }
      if (!isValidImageTag(tag)) throw invalidInput('svctl.image_tag_invalid', `--image-tag: "${tag}" is not a valid image tag`, {hint: 'Letters, digits, "_", "." and "-", at most 128, not starting with "." or "-".'});
      const rendered = renderService(resolveEnvironment(spec, environment, clusters), {imageTag: tag});
      services.push({service: rendered.service, namespace: rendered.namespace, image: rendered.image, objects: rendered.objects});
    }
    return {environment, services};
  }

  protected override renderResult(result: RenderResult, out: ResultWriter): void {
    out.text(toYaml(result.services.flatMap((s) => s.objects)));
  }
}
