export {type KeyPath, type Problem, type SpecErrorReason, SpecError, isSpecError, formatKeyPath, formatProblem, joinProblemLines, didYouMean} from './problems.js';
export {type Position, type YamlSource, parseYaml} from './yaml.js';
export {type Finding, describeIssues, describeValue, valueAt} from './issues.js';
export {type CheckOptions, type CheckResult, checkYaml, validateSource, problemAt, loadYamlFile, sortProblems} from './load.js';
export {type Shape, shapeOf, shapeAt, keysOf, metaAt, coerce, envSegment, resolveEnvPath} from './shape.js';
