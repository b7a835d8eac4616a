// Jenkins through the npm `jenkins` client (loaded when a server is connected): the pipeline job
// from the spec, builds with their queue wait and console log, API tokens from env or 0600 files.
export * from './api.js';
export * from './build.js';
export * from './console.js';
export * from './job-config.js';
export * from './server.js';
export * from './sync.js';
