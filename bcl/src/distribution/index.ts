// The distribution client's formats and stores, for the publisher (@bcl/release) and tests:
// `@bcl/core/distribution`. Install, update and rollback stay behind the commands.
export {
  type Artifact,
  type ChannelManifest,
  type ReleaseInfo,
  type VersionManifest,
  channelManifestPath,
  channelManifestSchema,
  parseManifest,
  serializeManifest,
  signaturePath,
  versionDirPath,
  versionManifestPath,
  versionManifestSchema,
} from './manifest.js';
export {DEFAULT_PLATFORMS, PLATFORMS, currentPlatform, isPlatform, nodePackageName, parsePlatforms, type Platform} from './platforms.js';
export {describePublicKey, parsePublicKey, shortKeyId, verifySignatures, type PublicKey, type SignatureDocument} from './signing.js';
export {isHttpLocation, openStore, type DownloadProgress, type Store, type StoreIo} from './store.js';
export {compareVersions, isValidVersion} from './versions.js';
export {INSTALL_RECORD, RELEASE_INFO} from './layout.js';
