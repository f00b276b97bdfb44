import { expect } from 'chai';
import { executeAction, webhookRefusal } from '../../src/actions/index.js';
import type { KubeClient } from '../../src/client/index.js';

const resolver = (table: Record<string, string[]>) => async (host: string) => table[host] ?? ['203.0.113.10'];

describe('actions/webhook-guard: where a webhook may go', () => {
  it('refuses link-local and metadata addresses, literal or resolved, unless listed exactly', async () => {
    const r = resolver({ 'sneaky.example': ['10.0.0.1', '169.254.169.254'] });
    expect(await webhookRefusal('http://169.254.169.254/latest/meta-data', {}, r)).to.match(/169\.254\.169\.254 is a link-local or metadata address/);
    expect(await webhookRefusal('http://[fd00:ec2::254]/', {}, r)).to.match(/fd00:ec2::254 is a link-local/);
    expect(await webhookRefusal('http://[fe80::1]:8080/', {}, r)).to.match(/link-local/);
    expect(await webhookRefusal('http://metadata.google.internal/computeMetadata/v1/', {}, r)).to.match(/metadata service/);
    expect(await webhookRefusal('https://sneaky.example/hook', {}, r)).to.match(/sneaky\.example \(169\.254\.169\.254\)/);
    expect(await webhookRefusal('https://hooks.example/x', {}, r)).to.equal(undefined);
    expect(await webhookRefusal('http://169.254.169.254/', { allowedHosts: ['169.254.169.254'] }, r)).to.equal(undefined);
  });

  it('with allowed hosts, calls only those (names and *.suffix patterns)', async () => {
    const policy = { allowedHosts: ['hooks.example', '*.corp.example'] };
    const r = resolver({});
    expect(await webhookRefusal('https://hooks.example/a', policy, r)).to.equal(undefined);
    expect(await webhookRefusal('https://ci.corp.example/a', policy, r)).to.equal(undefined);
    expect(await webhookRefusal('https://corp.example/a', policy, r)).to.match(/not in webhooks\.allowedHosts/);
    expect(await webhookRefusal('https://evil.example/a', policy, r)).to.match(/the host evil\.example is not in webhooks\.allowedHosts/);
    expect(await webhookRefusal('file:///etc/passwd', policy, r)).to.match(/only http and https/);
  });

  it('fails a refused webhook terminally, sending nothing', async () => {
    const r = await executeAction(
      {
        rule: 'exfil',
        trigger: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm', event: 'sync' },
        action: 'webhook',
        target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm' },
        body: { method: 'POST', url: 'http://169.254.169.254/latest/api/token' },
        options: {},
      },
      { client: {} as KubeClient },
    );
    expect(r.status).to.equal('failed');
    expect(r.cause?.code).to.equal('ERR_WEBHOOK_REFUSED');
    expect(r.cause?.terminal).to.equal(true);
    expect(r.cause?.message).to.equal('webhook POST 169.254.169.254 for rule "exfil" refused: 169.254.169.254 is a link-local or metadata address; list it in webhooks.allowedHosts to call it');
  });
});
