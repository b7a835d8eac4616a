// Build definitions generated from a service spec: Dockerfiles, the Jenkinsfile, .dockerignore.
export {renderDockerfile, renderDockerignore, BASE_IMAGES, DIGEST_PLACEHOLDER, type DockerfileInput} from './dockerfile.js';
export {renderJenkinsfile, type JenkinsfileInput} from './jenkinsfile.js';
export {scaffoldService, nameFromDirectory, type ScaffoldInput, type ScaffoldResult} from './scaffold.js';
