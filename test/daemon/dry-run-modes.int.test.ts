import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, ruleConfigMap, testConfig } from './daemon-support.js';

const SECRET = 'hunter2-do-not-log';

describe('reflex run --dry-run (end to end, against the control plane)', function () {
  this.timeout(60_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  const copyRule = (ns: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: copy-secret }
spec:
  watch: { apiVersion: v1, kind: Secret, namespaces: [${ns}], labelSelector: copy=yes }
  actions:
    - apply:
        object:
          apiVersion: v1
          kind: Secret
          metadata: { name: "{{ metadata.name }}-copy", namespace: "{{ metadata.namespace }}" }
          data: "{{ data }}"
`;
  const setup = async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/secrets`, {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'source', labels: { copy: 'yes' } }, data: { password: Buffer.from(SECRET).toString('base64') },
    });
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-copy', copyRule(fx.ns)));
  };
  const noSecretInLogs = (d: DaemonProcess) => {
    const all = d.lines.map((l) => JSON.stringify(l)).join('\n') + d.stderr.join('');
    expect(all).to.not.contain(SECRET);
    expect(all).to.not.contain(Buffer.from(SECRET).toString('base64'));
  };

  it('client: plans and logs the actions, writes nothing, and never logs Secret data', async () => {
    await setup();
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--dry-run=client'] });
    const planned = await daemon.waitForLog((l) => String(l.message).startsWith('dry-run: planned apply ') && l.rule === 'copy-secret', 15_000, 'a planned action');
    expect(planned.action).to.equal('apply');
    expect((planned.target as { name: string }).name).to.equal('source-copy');
    await new Promise((r) => setTimeout(r, 500));
    expect((await fx.admin.call('GET', `/api/v1/namespaces/${fx.ns}/secrets/source-copy`)).status).to.equal(404);
    noSecretInLogs(daemon);
  });

  it('server: sends the write with dryRun=All, logs the server\'s answer, and persists nothing', async () => {
    await setup();
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--dry-run=server'] });
    const answer = await daemon.waitForLog((l) => l.message === 'dry-run (server): the API server accepted' && l.rule === 'copy-secret', 15_000, "the server's answer");
    expect((answer.target as { name: string }).name).to.equal('source-copy');
    expect(answer.object).to.match(/^\[REDACTED: the rule reads Secrets/); // the rule reads Secrets: its answer is masked too
    expect((await fx.admin.call('GET', `/api/v1/namespaces/${fx.ns}/secrets/source-copy`)).status).to.equal(404);
    noSecretInLogs(daemon);
  });
});
