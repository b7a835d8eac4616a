// File primitives shared by the CLIs and the servers: no dependency on any other workspace package.
export {writeFileAtomic, writeFileAtomicSync, fsyncPath, preloadAtomicWrites, type AtomicWriteOptions} from './atomic.js';
export {writeSecretFile, writeSecretFileSync, writeSecretFilesSync, checkSecretTarget, type SecretWriteOptions} from './secret.js';
export {StagedDirectory, writeNewFileSync} from './staged.js';
export {acquireFileLock, withFileLock, readLockHolder, type FileLock, type FileLockOptions} from './lock.js';
export {FileSafetyError, LockHeldError, describeHolder, type FileSafetyProblem, type LockHolder} from './errors.js';
