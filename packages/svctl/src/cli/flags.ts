import {Args, Flags} from '@bcl/core';

/** Flags and arguments several svctl commands share. */
export const envFlag = Flags.string({char: 'e', summary: 'The environment (default: svctl.defaultEnv); maps to a kubeconfig context by svctl.clusters.<env>.context.', helpValue: '<env>'});
export const imageTagFlag = Flags.string({summary: 'The image tag to deploy (default: the current git commit).', helpValue: '<tag>'});
export const specArgs = {spec: Args.string({description: 'service.yaml files or directories holding one (default: ./service.yaml).', required: false})};

/** Flags of every command that can go through svapp (server mode; accepted in direct mode, where svapp never warns). */
export const serverFlags = {
  'warnings-as-errors': Flags.boolean({summary: 'Fail, before anything is done, when svapp warns (e.g. that this svctl is deprecated).'}),
};

/** Flags of commands that follow an operation in svapp. */
export const followFlags = {
  'cancel-on-interrupt': Flags.boolean({summary: 'On Ctrl-C, cancel the operation in svapp (default: ask on a terminal, else detach and let it run).'}),
};

export const breakGlassFlag = Flags.string({summary: "Break the environment's freeze, giving the reason (members of the freeze's break-glass group; the reason is audited). Through svapp only.", helpValue: '<reason>'});
