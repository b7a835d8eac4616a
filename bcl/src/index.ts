// The public API of the BCL framework, for tool plugins. Heavy modules stay behind lazy imports.
export {BclCommand, type BclArgs, type BclFlags} from './command/base.js';
export type {CommandContext} from './command/context.js';
export {durationFlag, parseDuration} from './command/flags.js';
export {Prompter} from './command/prompt.js';
export {defineNamespace, type ConfigNamespace, type NamespaceName} from './config/namespace.js';
export {projectKey, trustedKey} from './config/trust.js';
export {BclError, ExitCode, conflict, denied, interrupted, invalidInput, specInvalid, isBclError, operationFailed, toBclError, unavailable, usageError, type BclErrorOptions} from './errors.js';
export {HttpClient, type HttpResponse} from './http/client.js';
export {ResultWriter} from './output/result.js';
export {Ui, type ProgressTask} from './output/ui.js';
export {type BclPaths, type Env} from './paths.js';
export {ProcessRunner, ProcessFailed, tail, type RunResult} from './process/runner.js';
export {Redactor} from './process/redactor.js';
export {programCheck, type DoctorCheck, type DoctorContribution} from './doctor/checks.js';
export {ToolConfigCommand} from './command/tool-config.js';
export {UpdateCommand} from './distribution/update-command.js';
export {isProcessAlive} from './process/alive.js';
