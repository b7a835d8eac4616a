// The public API of the BCL framework, for tool plugins. Heavy modules stay behind lazy imports.
export {BclCommand, type BclArgs, type BclFlags, type Envelope} from './command/base.js';
export type {CommandContext} from './command/context.js';
export {globalFlags, durationFlag, parseDuration} from './command/flags.js';
export {Prompter, interactivity, type PromptSpec} from './command/prompt.js';
export {bclNamespace, bclSchema, type BclSettings} from './config/bcl-namespace.js';
export {defineNamespace, KNOWN_NAMESPACES, type ConfigNamespace, type NamespaceName} from './config/namespace.js';
export {loadConfig, ResolvedConfig, type ConfigEntry, type LoadConfigOptions, type Origin} from './config/resolve.js';
export {editConfig, writeAtomically} from './config/edit.js';
export {readConfigFile, parseConfigText} from './config/files.js';
export {
  BclError,
  ExitCode,
  conflict,
  denied,
  interrupted,
  invalidInput,
  isBclError,
  operationFailed,
  toBclError,
  unavailable,
  usageError,
  type BclErrorOptions,
} from './errors.js';
export {HttpClient, expectOk, type HttpRequest, type HttpResponse, type TlsOptions} from './http/client.js';
export {nodeHttpAgent} from './http/agent.js';
export {ResultWriter} from './output/result.js';
export {renderTable, renderKeyValue, type Column} from './output/table.js';
export {Ui, ProgressBoard, type ProgressTask} from './output/ui.js';
export {bclPaths, toolDir, type BclPaths, type Env} from './paths.js';
export {ProcessRunner, ProcessFailed, tail, type RunOptions, type RunResult} from './process/runner.js';
export {Redactor} from './process/redactor.js';
export {programCheck, endpointCheck, compareVersions, type DoctorCheck, type DoctorContribution} from './doctor/checks.js';
export {workspaceTools, workspacePackages, type BclPackageSection} from './tools.js';
export {ToolConfigCommand} from './command/tool-config.js';
export {UpdateCommand} from './distribution/update-command.js';
export {isProcessAlive} from './process/alive.js';
