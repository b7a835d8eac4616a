// The deploy policy as people meet it through svctl and a real svapp process on the local
// cluster: a refused production deploy (exit 4, who, what, where, why; nothing applied), a team
// claimed by editing the spec, an approval by a second person seen live by the requester, can-i,
// freezes broken with a reason, policy edits in force within seconds (a broken edit keeping the
// rules), and default deny, reads included.
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {type ClusterSvapp, kubectl, runCli, startSvappOnCluster, svctlServerHome, testNamespace, type TestNamespace, waitFor} from '@bcl/testkit';
import {serviceRepo, type ServiceRepo} from '../../../svctl/test/helpers.js';
import {credentialsOf, operations} from './cluster-support.js';

const kubeconfig = inject('kubeconfig');

const policy = (extra = {rules: '', freezes: ''}) => `timeZone: UTC
groups:
  release-managers: [rita@example.com]
  sre: [sam@example.com]
  admins: [pat@example.com]
teams:
  payments: [ann@example.com]
  search: [bob@example.com]
admins: [admins]
environments:
  staging: {}
  prod:${extra.freezes ? `\n    freezes:\n${extra.freezes}` : ' {}'}
rules:
  - id: own-team-staging
    allow: [deploy, rollback, cancel, read]
    who: '*'
    services: {ownTeam: true}
    environments: [staging]
  - id: prod-with-approval
    description: Teams deploy their own services to production with a release manager's approval
    allow: [deploy]
    who: {teams: [payments, search]}
    services: {ownTeam: true}
    environments: [prod]
    approval: {group: release-managers}
  - id: read-own-prod
    allow: [read]
    who: '*'
    services: {ownTeam: true}
    environments: [prod]
  - id: sre-everywhere
    allow: ['*']
    who: {groups: [sre]}
    services: '*'
    environments: '*'
${extra.rules}`;

let svapp: ClusterSvapp;
let ns: TestNamespace;
const people = ['ann', 'bob', 'rita', 'sam', 'pat'] as const;
const homes = {} as Record<(typeof people)[number], Awaited<ReturnType<typeof svctlServerHome>>>;
const repos: ServiceRepo[] = [];
let payments: ServiceRepo;
let search: ServiceRepo;

const specOf = (name: string, team: string) => `name: ${name}
team: ${team}
image: registry.example.com/${team}/${name}
runtime: node
port: 3000
replicas: 1
metrics: {enabled: false}
environments:
  staging: {namespace: ${ns.name}}
  prod: {namespace: ${ns.name}, production: true}
`;

beforeAll(async () => {
  ns = await testNamespace(kubeconfig, 'svapp-policy');
  svapp = await startSvappOnCluster(kubeconfig, {policy: policy(), clusters: ['staging', 'prod'], catalog: {'payments-api': specOf('payments-api', 'payments'), 'search-api': specOf('search-api', 'search')}});
  for (const p of people) homes[p] = await svctlServerHome(svapp, svapp.replicas[0]!.url, {email: `${p}@example.com`});
  payments = await serviceRepo(specOf('payments-api', 'payments'));
  search = await serviceRepo(specOf('search-api', 'search'));
  repos.push(payments, search);
}, 180_000);

afterAll(async () => {
  for (const r of repos) r.remove();
  for (const h of Object.values(homes)) h.remove();
  await svapp?.stop();
  await ns?.remove();
});

const as = (who: (typeof people)[number], args: string[], repo: ServiceRepo, extra: Parameters<typeof runCli>[2] = {}) => runCli('svctl', args, {env: homes[who].cliEnv, cwd: repo.dir, ...extra});
const deployed = async (name: string) => (await kubectl(kubeconfig, ['get', 'deployment', name, '-n', ns.name, '-o', 'name'], {allowFailure: true})).stdout.trim();

describe('refusals', () => {
  it('a production deploy no rule allows is exit 4 naming identity, action, service, environment and why, with nothing applied', async () => {
    // bob is in team search, not payments; and payments-api is a production service.
    const other = await as('bob', ['deploy', '--env', 'prod', '--image-tag', '1.0.0', '--json'], payments);
    expect(other.exitCode).toBe(4);
    expect(other.json().error).toMatchObject({code: 'svapp.denied', message: 'bob@example.com may not deploy payments-api to prod: no rule allows it', hint: 'Nothing was done. `svctl can-i` shows every rule the policy considered.'});
    expect(await deployed('payments-api')).toBe('');
    const human = await as('bob', ['deploy', '--env', 'prod', '--image-tag', '1.0.0'], payments);
    expect(human.stderr).toMatch(/^Error: bob@example\.com may not deploy payments-api to prod: no rule allows it$/m);
  });

  it('a person of another team cannot deploy a service by editing the team in their checkout', async () => {
    const claimed = await serviceRepo(specOf('search-api', 'payments'));
    repos.push(claimed);
    const r = await as('ann', ['deploy', '--env', 'staging', '--image-tag', '1.0.0', '--json'], claimed);
    expect(r.exitCode, r.stderr).toBe(4);
    expect(r.json().error!.message).toMatch(/^ann@example\.com may not deploy search-api to staging: no rule allows it \(and .*service\.yaml names team payments, but svapp's catalog \(.*search-api\.yaml\) has search-api as a service of team search; a request cannot claim a team\)$/);
    expect(await deployed('search-api')).toBe('');
    // bob, whose team it is, deploys it.
    expect((await as('bob', ['deploy', '--env', 'staging', '--image-tag', '1.0.0'], search)).exitCode).toBe(0);
    expect(await deployed('search-api')).toBe('deployment.apps/search-api');
  });
});

describe('approvals', () => {
  it('a production deploy waits for a second person; the requester sees the approval live, then the rollout', async () => {
    const waiting = as('ann', ['deploy', '--env', 'prod', '--image-tag', '1.0.0'], payments);
    const reader = credentialsOf(homes.rita.configFile);
    await waitFor('the deploy to wait for approval', async () => (await operations(reader)).some((o) => o.state === 'waiting-approval' && o.services[0] === 'payments-api'), {timeoutMs: 30_000});
    const op = (await operations(reader)).find((o) => o.state === 'waiting-approval' && o.services[0] === 'payments-api')!;
    const self = await as('ann', ['ops', 'approve', op.id], payments);
    expect(self.exitCode).toBe(4);
    expect(self.stderr).toMatch(/ann@example\.com may not approve their own request to deploy payments-api to prod: another member of group release-managers must/);
    const list = await as('rita', ['ops', 'list', '--state', 'waiting-approval'], payments);
    expect(list.stdout).toContain(op.id);
    const ok = await as('rita', ['ops', 'approve', op.id], payments);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^✓ approved deploy ${op.id} of payments-api in prod by ann@example\\.com: `));
    const r = await waiting;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Waiting for approval: ann@example\.com needs approval to deploy payments-api to prod: rule prod-with-approval requires approval from a member of group release-managers other than ann@example\.com\. A member of group release-managers approves with: svctl ops approve [0-9a-f-]{36}/);
    expect(r.stderr).toMatch(/Approved by rita@example\.com: ann@example\.com may deploy payments-api to prod: rule prod-with-approval allows it, approved by rita@example\.com \(group release-managers\)\n.*payments-api \(prod\): connecting/);
    expect(await deployed('payments-api')).toBe('deployment.apps/payments-api');
    const audit = await svapp.site.audit();
    expect(audit.find((e) => e.event === 'operation.approved' && e.operation === op.id)).toMatchObject({who: {kind: 'person', name: 'rita@example.com'}});
  });
});

describe('can-i', () => {
  it('prints the decision and every rule behind it, as JSON too; --as is for admins', async () => {
    const r = await as('ann', ['can-i', 'deploy', 'payments-api', '--env', 'prod'], payments);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ann@example\.com needs approval to deploy payments-api to prod: rule prod-with-approval requires approval from a member of group release-managers other than ann@example\.com\nrules:\n {2}allow own-team-staging \[not-matched\]: does not match: prod is not staging\n {2}allow prod-with-approval \[decided\]: matches: /);
    const json = await as('ann', ['can-i', 'deploy', 'search-api', '--env', 'staging', '--json'], payments);
    expect(json.json<{result: {allowed: boolean; decision: {outcome: string; code: string; decidedBy: unknown; request: {team: string}}}}>().result).toMatchObject({allowed: false, decision: {outcome: 'denied', code: 'no-rule', decidedBy: {kind: 'no-rule'}, request: {team: 'search'}}});
    const admin = await as('pat', ['can-i', 'deploy', 'payments-api', '--env', 'staging', '--as', 'ann@example.com', '--json'], payments);
    expect(admin.json<{result: {allowed: boolean}}>().result.allowed).toBe(true);
    const notAdmin = await as('bob', ['can-i', 'deploy', 'payments-api', '--env', 'staging', '--as', 'ann@example.com'], payments);
    expect(notAdmin.exitCode).toBe(4);
    expect(notAdmin.stderr).toMatch(/bob@example\.com may not ask as ann@example\.com: only members of group admins \(admins\) may/);
  });
});

describe('the policy file', () => {
  const utc = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

  it('a freeze begins within seconds of the edit; the break-glass group deploys with a reason, which is audited', async () => {
    const freeze = `      - id: incident\n        dates:\n          - {from: '${utc(Date.now() - 3_600_000)}', to: '${utc(Date.now() + 3_600_000)}'}\n        breakGlass: sre\n`;
    svapp.site.writePolicy(policy({rules: '', freezes: freeze}));
    await waitFor('the freeze to be in force', async () => (await as('sam', ['can-i', 'deploy', 'payments-api', '--env', 'prod', '--json'], payments)).json<{result: {decision: {code: string}}}>().result.decision.code === 'break-glass-reason-required', {timeoutMs: 5000});
    const noReason = await as('sam', ['deploy', '--env', 'prod', '--image-tag', '1.0.1'], payments);
    expect(noReason.exitCode).toBe(4);
    expect(noReason.stderr).toMatch(/sam@example\.com may not deploy payments-api to prod: prod is frozen \(incident\) until .* UTC; sam@example\.com may break the freeze \(group sre\) but must give a reason/);
    const ann = await as('ann', ['deploy', '--env', 'prod', '--image-tag', '1.0.1', '--break-glass', 'I need it'], payments);
    expect(ann.exitCode).toBe(4);
    expect(ann.stderr).toMatch(/only members of group sre may break this freeze, with a reason/);
    const broken = await as('sam', ['deploy', '--env', 'prod', '--image-tag', '1.0.1', '--break-glass', 'INC-4711 checkout down'], payments);
    expect(broken.exitCode, broken.stderr).toBe(0);
    const requested = (await svapp.site.audit()).filter((e) => e.event === 'operation.requested').at(-1) as {decisions: {code: string; details: {freeze: {reason: string; broken: boolean}}}[]};
    expect(requested.decisions[0]).toMatchObject({code: 'allowed-break-glass', details: {freeze: {reason: 'INC-4711 checkout down', broken: true}}});
  });

  it('a broken edit keeps the rules in force (logged with file, line and key); a good one applies without a restart', async () => {
    svapp.site.writePolicy(`${policy()}  - id: typo\n    alow: [deploy]\n`);
    await waitFor('svapp to report the broken policy', () => /deploy-policy\.yaml:\d+:\d+: rules\[4\]/.test(svapp.replicas[0]!.log()), {timeoutMs: 5000});
    expect(svapp.replicas[0]!.log()).toMatch(/keeping the policy loaded at/);
    expect((await as('ann', ['status', '--env', 'staging'], payments)).exitCode).toBe(0);
    // Without the own-team rule, ann may no longer read her staging service.
    svapp.site.writePolicy(policy().replace(/ {2}- id: own-team-staging[\s\S]*?(?= {2}- id: prod-with-approval)/, ''));
    await waitFor('the new policy to be in force', async () => (await as('ann', ['status', '--env', 'staging'], payments)).exitCode === 4, {timeoutMs: 5000});
    const r = await as('ann', ['status', '--env', 'staging'], payments);
    expect(r.stderr).toMatch(/ann@example\.com may not read payments-api in staging: no rule allows it/);
  });

  it('with no rules, everything is refused, reads included', async () => {
    svapp.site.writePolicy('environments:\n  staging: {}\n  prod: {}\nrules: []\n');
    await waitFor('the empty policy to be in force', async () => (await as('sam', ['status', '--env', 'prod'], payments)).exitCode === 4, {timeoutMs: 5000});
    for (const [who, args] of [
      ['sam', ['status', '--env', 'prod']],
      ['ann', ['history', '--env', 'staging']],
      ['bob', ['deploy', '--env', 'staging', '--image-tag', '2.0.0']],
      ['pat', ['ops', 'list']],
    ] as const) {
      const r = await as(who, [...args], payments);
      if (args[0] === 'ops') {
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toMatch(/^no operations\n\(\d+ more the deploy policy does not let you read\)/);
      } else {
        expect(r.exitCode, `${who} ${args.join(' ')}: ${r.stderr}`).toBe(4);
        expect(r.stderr).toMatch(/no rule allows it/);
      }
    }
    svapp.site.writePolicy(policy());
  });
});

describe('svapp check-policy', () => {
  it('validates a policy file for the policy repository\'s CI (exit 0, or 3 naming file, line and key)', async () => {
    const good = await runCli('svapp', ['check-policy', svapp.site.policyFile]);
    expect(good.exitCode, good.stderr).toBe(0);
    const {writeFileSync} = await import('node:fs');
    const bad = `${svapp.site.dir}/bad-policy.yaml`;
    writeFileSync(bad, 'rules:\n  - id: x\n    alow: [deploy]\n');
    const r = await runCli('svapp', ['check-policy', bad]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/bad-policy\.yaml:3:5: rules\[0\]\.alow: unknown key/);
  });
});
