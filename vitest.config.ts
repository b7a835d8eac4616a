import {fileURLToPath} from 'node:url';
import {defineConfig} from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Tests against the local Kubernetes control plane run in a project of their own, whose
// globalSetup starts one cluster for the run; the other tests never wait for it.
const k8sTests = ['packages/*/test/k8s/**/*.test.ts', 'packages/*/{src,test}/**/*.k8s.test.ts', 'packages/testkit/test/k8s.test.ts'];

// One configuration for the whole workspace: unit tests sit beside the code (*.test.ts),
// integration tests in each package's test/ and run the real launchers and real services.
export default defineConfig({
  resolve: {
    alias: [
      {find: /^@bcl\/core$/, replacement: here('./bcl/src/index.ts')},
      {find: /^@bcl\/core\/errors$/, replacement: here('./bcl/src/errors.ts')},
      {find: /^@bcl\/core\/http$/, replacement: here('./bcl/src/http/client.ts')},
      {find: /^@bcl\/core\/http-agent$/, replacement: here('./bcl/src/http/agent.ts')},
      {find: /^@bcl\/core\/process$/, replacement: here('./bcl/src/process/index.ts')},
      {find: /^@bcl\/core\/text$/, replacement: here('./bcl/src/text.ts')},
      {find: /^@bcl\/deploy-core\/spec\/schema$/, replacement: here('./packages/deploy-core/src/spec/schema.ts')},
      {find: /^@bcl\/deploy-core\/(events)$/, replacement: here('./packages/deploy-core/src/$1.ts')},
      {find: /^@bcl\/deploy-core\/(spec|render|kube|deploy|jenkins|observability)$/, replacement: here('./packages/deploy-core/src/$1/index.ts')},

      {find: /^@bcl\/core\/distribution$/, replacement: here('./bcl/src/distribution/index.ts')},
      {find: /^@bcl\/testkit$/, replacement: here('./packages/testkit/src/index.ts')},
      {find: /^@bcl\/files$/, replacement: here('./packages/files/src/index.ts')},
      {find: /^@bcl\/release$/, replacement: here('./packages/release/src/index.ts')},
    ],
  },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
    env: {BCL_DISABLE_UPDATE_CHECK: '1'},
    projects: [
      {extends: true, test: {name: 'default', include: ['bcl/{src,test}/**/*.test.ts', 'packages/*/{src,test}/**/*.test.ts'], exclude: k8sTests}},
      {extends: true, test: {name: 'k8s', include: k8sTests, globalSetup: [here('./packages/testkit/src/k8s-setup.ts')]}},
    ],
  },
});
