import type {Runtime} from '@bcl/deploy-core/spec';
import {BASE_IMAGES, DIGEST_PLACEHOLDER} from './dockerfile.js';

export interface JenkinsfileInput {
  name: string;
  runtime: Runtime;
  /** The image repository (no tag). */
  image: string;
  /** Jenkins credentials id (username/password) for pushing to the registry. */
  registryCredentialsId?: string;
}

/** The test command per runtime, run inside the runtime's build image. */
const TEST_COMMANDS: Record<Runtime, string> = {
  node: 'npm ci --no-audit --no-fund && npm test',
  static: 'npm ci --no-audit --no-fund && npm test --if-present',
  go: 'go test ./...',
  python: 'pip install --no-cache-dir -r requirements.txt && python -m pytest',
  java: 'mvn -B -q test',
};

/**
 * The service's Jenkinsfile: checkout of GIT_SHA, tests in the runtime's build image, the image
 * built and pushed as IMAGE_TAG (default: the commit), and, when ENV is given, `svctl deploy`.
 * The job that runs it comes from `svctl pipeline sync`.
 */
export function renderJenkinsfile(input: JenkinsfileInput): string {
  const credentials = input.registryCredentialsId ?? 'registry';
  const registry = input.image.includes('/') && /[.:]/.test(input.image.split('/')[0]!) ? input.image.split('/')[0]! : 'docker.io';
  const testImage = `${BASE_IMAGES[input.runtime].build}@${DIGEST_PLACEHOLDER}`;
  return `// ${input.name}: the pipeline of the Jenkins job \`${input.name}\` (created by \`svctl pipeline sync\`).
// Parameters: GIT_SHA (commit to build), IMAGE_TAG (default: the commit), ENV (deploy there when set).
pipeline {
  agent any
  options {
    timestamps()
    timeout(time: 30, unit: 'MINUTES')
    disableConcurrentBuilds()
  }
  environment {
    IMAGE = '${input.image}'
    REGISTRY = '${registry}'
  }
  stages {
    stage('Checkout') {
      steps {
        checkout scm
        script {
          env.GIT_COMMIT_SHA = sh(returnStdout: true, script: 'git rev-parse HEAD').trim()
          env.TAG = params.IMAGE_TAG?.trim() ? params.IMAGE_TAG.trim() : env.GIT_COMMIT_SHA
          currentBuild.description = "\${env.TAG}"
        }
      }
    }
    stage('Test') {
      steps {
        sh 'docker run --rm -v "$WORKSPACE:/src" -w /src ${testImage} sh -c ${shellQuote(TEST_COMMANDS[input.runtime])}'
      }
    }
    stage('Build image') {
      steps {
        sh 'docker build --pull --label org.opencontainers.image.revision="$GIT_COMMIT_SHA" -t "$IMAGE:$TAG" .'
      }
    }
    stage('Push image') {
      steps {
        withCredentials([usernamePassword(credentialsId: '${credentials}', usernameVariable: 'REGISTRY_USER', passwordVariable: 'REGISTRY_PASSWORD')]) {
          sh 'echo "$REGISTRY_PASSWORD" | docker login --username "$REGISTRY_USER" --password-stdin "$REGISTRY"'
          sh 'docker push "$IMAGE:$TAG"'
        }
      }
    }
    stage('Deploy') {
      when { expression { params.ENV?.trim() } }
      steps {
        sh 'svctl deploy --env "$ENV" --image-tag "$TAG" --non-interactive'
      }
    }
  }
  post {
    always {
      sh 'docker image rm "$IMAGE:$TAG" || true'
    }
  }
}
`;
}

/** Quotes a command for sh inside a single-quoted Groovy string. */
function shellQuote(command: string): string {
  return `\\"${command.replace(/"/g, '\\\\\\"')}\\"`;
}
