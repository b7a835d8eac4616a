// Manifests from a service spec: pure functions, no cluster access.
export {renderService, standardLabels, selectorLabels, assertImageTag, isValidImageTag, type RenderOptions, type RenderedService} from './manifests.js';
export {applyRank, applySteps, inApplyOrder, objectRef, WORKLOAD_KINDS, type KubeObject} from './objects.js';
export {toYaml} from './yaml.js';
