// The publisher's side of distribution, for its commands (bcl release ...) and the tests.
export {buildReleases, readBuildRecord, releasableTools, BUILD_RECORD, type BuildRecord, type BuiltArtifact, type ReleaseBuildIo, type ReleaseBuildOptions} from './build.js';
export {bundleOclifPackage, type BundleOptions, type BundleResult} from './bundle.js';
export {generateSigningKeyPair, parsePrivateKey, serializeSignatures, signBytes, type GeneratedKeyPair, type SigningKey} from './keys.js';
export {publishReleases, type PublishedTool, type PublishOptions} from './publish.js';
export {nodeRuntime, npmRegistry, type NodeRuntime, type RuntimeIo} from './runtime.js';
export {treeEntries, writeTarGz, type TarSource} from './tarball.js';
