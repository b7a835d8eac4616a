import {Args, Flags} from '@bcl/core';
import {BclCommand, type ResultWriter} from '@bcl/core';
import {RUNTIMES, type Runtime} from '@bcl/deploy-core/spec/schema';
import type {ScaffoldResult} from '../templates/scaffold.js';

export default class Init extends BclCommand<typeof Init> {
  static override summary = 'Scaffold a service: service.yaml, a Dockerfile for its runtime, a Jenkinsfile and .dockerignore.';
  static override description =
    'The Dockerfile is multi-stage, runs as a non-root user, has a HEALTHCHECK on the liveness path and pins its base images by digest (placeholders to fill in). Prompts for what is missing on a terminal; elsewhere every missing input is an error naming its flag. Existing files are left alone unless --force.';
  static override examples = [
    '<%= config.bin %> init --name hello --team payments --runtime node',
    '<%= config.bin %> init services/api --team core --runtime go --image registry.example.com/core/api --port 8080',
  ];
  static override args = {dir: Args.string({description: 'Where to write the files (default: the current directory).'})};
  static override flags = {
    name: Flags.string({summary: 'The service name, a DNS label (default: the directory name).'}),
    team: Flags.string({summary: 'The owning team.'}),
    runtime: Flags.string({summary: 'The runtime, which picks the Dockerfile template.', options: [...RUNTIMES]}),
    image: Flags.string({summary: 'The image repository without tag (default: registry.example.com/<team>/<name>).'}),
    port: Flags.integer({summary: 'The port the service listens on (default: the runtime\'s usual port).', min: 1, max: 65535}),
    force: Flags.boolean({summary: 'Overwrite files that already exist.'}),
  };

  async run(): Promise<ScaffoldResult> {
    const {resolve} = await import('node:path');
    const {scaffoldService, nameFromDirectory} = await import('../templates/scaffold.js');
    const dir = resolve(this.ctx.cwd, this.args.dir ?? '.');
    const prompt = this.ctx.prompt;
    let name = this.flags.name ?? (prompt.interactive ? await prompt.text({message: 'Service name:', flag: '--name', default: nameFromDirectory(dir)}) : nameFromDirectory(dir));
    // A directory name that makes no service name: ask, or (non-interactive) exit 2 naming --name.
    name ??= await prompt.text({message: 'Service name:', flag: '--name'});
    const team = this.flags.team ?? (await prompt.text({message: 'Owning team:', flag: '--team'}));
    const runtime = (this.flags.runtime ?? (await prompt.text({message: `Runtime (${RUNTIMES.join(', ')}):`, flag: '--runtime'}))) as Runtime;
    if (!RUNTIMES.includes(runtime)) {
      const {invalidInput} = await import('@bcl/core');
      throw invalidInput('svctl.init_invalid', `--runtime: expected one of ${RUNTIMES.join(', ')}, got "${runtime}"`);
    }
    const result = scaffoldService({dir, name, team, runtime, image: this.flags.image, port: this.flags.port, force: this.flags.force});
    this.ctx.ui.info(`Next: fill in the base image digests in the Dockerfile, then \`svctl validate\` and \`svctl pipeline sync\`.`);
    return result;
  }

  protected override renderResult(result: ScaffoldResult, out: ResultWriter): void {
    out.text(result.files.map((f) => `${f.action} ${f.path}`).join('\n'));
  }
}
