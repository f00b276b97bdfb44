import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { DaemonMetrics } from '../../src/daemon/index.js';
import { RateLimitingWorkQueue } from '../../src/queue/index.js';

/** The value of one series in a Prometheus text exposition, or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('DaemonMetrics', () => {
  it('exports the queue metrics a real work queue reports through its hooks', async () => {
    const clock = new FakeClock(1_000_000);
    const m = new DaemonMetrics({ processMetrics: false });
    const q = new RateLimitingWorkQueue({ clock, metrics: m.queueMetrics() });
    m.watchQueue(() => q.stats());
    q.add('a');
    q.add('b', { lane: 'sweep' });
    q.add('c', { lane: 'sweep' });
    let text = await m.metrics();
    expect(sample(text, 'reflex_queue_depth{lane="live"}')).to.equal(1);
    expect(sample(text, 'reflex_queue_depth{lane="sweep"}')).to.equal(2);
    expect(sample(text, 'reflex_queue_adds_total{lane="sweep"}')).to.equal(2);

    clock.advance(300);
    expect(await q.get()).to.equal('a');
    clock.advance(2_000);
    text = await m.metrics();
    expect(sample(text, 'reflex_queue_longest_running_seconds')).to.equal(2);
    expect(sample(text, 'reflex_queue_latency_seconds_bucket{le="0.25",lane="live"}')).to.equal(0);
    expect(sample(text, 'reflex_queue_latency_seconds_bucket{le="0.5",lane="live"}')).to.equal(1);
    q.done('a');
    q.addRateLimited('a');
    text = await m.metrics();
    expect(sample(text, 'reflex_work_duration_seconds_sum{lane="live"}')).to.equal(2);
    expect(sample(text, 'reflex_work_duration_seconds_count{lane="live"}')).to.equal(1);
    expect(sample(text, 'reflex_queue_retries_total')).to.equal(1);
    expect(sample(text, 'reflex_queue_longest_running_seconds')).to.equal(0);
    q.shutdown();
  });

  it('counts failures by outcome and reason, and shows the keys in retry per rule at each scrape', async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    let inRetry: Record<string, number> = { ttl: 3, copy: 1 };
    m.watchRetries(() => inRetry);
    m.ruleFailed('ttl', 'transient', 'ServiceUnavailable');
    m.ruleFailed('ttl', 'transient', 'ServiceUnavailable');
    m.ruleFailed('copy', 'terminal', 'Invalid');
    let text = await m.metrics();
    expect(sample(text, 'reflex_rule_failures_total{rule="ttl",outcome="transient",reason="ServiceUnavailable"}')).to.equal(2);
    expect(sample(text, 'reflex_rule_failures_total{rule="copy",outcome="terminal",reason="Invalid"}')).to.equal(1);
    expect(sample(text, 'reflex_rule_keys_in_retry{rule="ttl"}')).to.equal(3);
    inRetry = { copy: 1 };
    text = await m.metrics();
    expect(sample(text, 'reflex_rule_keys_in_retry{rule="ttl"}'), 'a rule with no key in retry drops out').to.equal(undefined);
    expect(sample(text, 'reflex_rule_keys_in_retry{rule="copy"}')).to.equal(1);
  });

  it('counts evaluations, actions and errors per rule with their outcome', async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    m.ruleEvaluated('ttl', 'match');
    m.ruleEvaluated('ttl', 'match');
    m.ruleEvaluated('ttl', 'nomatch');
    m.actionExecuted('ttl', 'delete', 'done');
    m.actionExecuted('ttl', 'patch', 'skipped-noop');
    m.ruleError('ttl', 'forbidden');
    m.retriesExhaustedFor('ttl');
    m.loopGuardTripped('fight');
    const text = await m.metrics();
    expect(sample(text, 'reflex_rule_evaluations_total{rule="ttl",result="match"}')).to.equal(2);
    expect(sample(text, 'reflex_rule_evaluations_total{rule="ttl",result="nomatch"}')).to.equal(1);
    expect(sample(text, 'reflex_actions_total{rule="ttl",action="delete",outcome="done"}')).to.equal(1);
    expect(sample(text, 'reflex_actions_total{rule="ttl",action="patch",outcome="skipped-noop"}')).to.equal(1);
    expect(sample(text, 'reflex_rule_errors_total{rule="ttl",kind="forbidden"}')).to.equal(1);
    expect(sample(text, 'reflex_retries_exhausted_total{rule="ttl"}')).to.equal(1);
    expect(sample(text, 'reflex_loop_guard_total{rule="fight"}')).to.equal(1);
  });

  it('reports rule loading, watch restarts and leader state', async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    expect(sample(await m.metrics(), 'reflex_leader')).to.equal(0);
    m.ruleLoadError('configmap/ops/rules');
    m.setRulesLoaded(7);
    m.watchRestarted('v1/pods');
    m.watchRestarted('v1/pods');
    m.setLeader(true);
    const text = await m.metrics();
    expect(sample(text, 'reflex_rule_load_errors_total{source="configmap/ops/rules"}')).to.equal(1);
    expect(sample(text, 'reflex_rules_loaded')).to.equal(7);
    expect(sample(text, 'reflex_watch_restarts_total{resource="v1/pods"}')).to.equal(2);
    expect(sample(text, 'reflex_leader')).to.equal(1);
  });

  it('reads cache sizes from the callback at each scrape, dropping resources no longer cached', async () => {
    const m = new DaemonMetrics({ processMetrics: false });
    let sizes: Record<string, number> = { 'v1/pods': 3, 'apps/v1/deployments': 1 };
    m.watchCaches(() => sizes);
    let text = await m.metrics();
    expect(sample(text, 'reflex_cache_objects{resource="v1/pods"}')).to.equal(3);
    sizes = { 'v1/pods': 5 };
    text = await m.metrics();
    expect(sample(text, 'reflex_cache_objects{resource="v1/pods"}')).to.equal(5);
    expect(sample(text, 'reflex_cache_objects{resource="apps/v1/deployments"}')).to.equal(undefined);
  });

  it('includes the process metrics under their standard names by default, each instance on its own registry', async () => {
    const a = new DaemonMetrics();
    const b = new DaemonMetrics();
    a.setRulesLoaded(1);
    expect(await a.metrics()).to.match(/^process_cpu_seconds_total /m);
    expect(await a.metrics()).to.match(/^nodejs_eventloop_lag_seconds /m);
    expect(await a.metrics()).to.not.match(/^reflex_process_/m);
    expect(sample(await b.metrics(), 'reflex_rules_loaded')).to.equal(0);
    expect(a.contentType).to.match(/^text\/plain/);
  });
});
