// The process pieces a package without oclif may use (`@bcl/core/process`): running programs with
// redaction and cancellation, the redactor itself, and a liveness check of a pid.
export {ProcessRunner, ProcessFailed, tail, type RunOptions, type RunResult} from './runner.js';
export {Redactor} from './redactor.js';
export {isProcessAlive} from './alive.js';
