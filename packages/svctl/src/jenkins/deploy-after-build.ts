import type {CommandContext} from '@bcl/core';

/** `svctl build --deploy`: hands the image built to svctl deploy's core. */
export async function deployAfterBuild(ctx: CommandContext, input: {specPath: string; env: string; imageTag: string; gitSha: string}): Promise<unknown> {
  void ctx;
  void input;
  throw new Error('svctl deploy is not available yet');
}
