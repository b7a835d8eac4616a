import {Args, Flags} from '@bcl/core';

/** Flags and arguments several svctl commands share. */
export const envFlag = Flags.string({char: 'e', summary: 'The environment (default: svctl.defaultEnv); maps to a kubeconfig context by svctl.clusters.<env>.context.', helpValue: '<env>'});
export const imageTagFlag = Flags.string({summary: 'The image tag to deploy (default: the current git commit).', helpValue: '<tag>'});
export const specArgs = {spec: Args.string({description: 'service.yaml files or directories holding one (default: ./service.yaml).', required: false})};
