/** The chart's Grafana dashboard and PrometheusRule query only metrics a running daemon serves. */
import { expect } from 'chai';
import { useCluster } from '../support/cluster.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { ensureHelm } from '../support/helm.js';
import { testConfig } from '../daemon/daemon-support.js';
import { only, render } from './render.js';

/** Metric names a /metrics text declares (histograms and summaries with their series suffixes). */
export function declaredMetrics(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    names.add(m[1]);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m[1] + s);
    if (m[2] === 'summary') for (const s of ['_sum', '_count']) names.add(m[1] + s);
  }
  return names;
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/** The metric names a PromQL expression reads (identifiers that are not functions, keywords or labels). */
export function metricsOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const call = /^\s*\(/.test(bare.slice((m.index ?? 0) + m[0].length));
    if (!call && !KEYWORDS.has(m[0].toLowerCase())) out.add(m[0]);
  }
  return [...out];
}

describe('charts/reflex: dashboard and alerts against a running daemon', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  let declared: Set<string>;

  before(() => ensureHelm());
  beforeEach(async () => {
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--rules', 'rules/', '--dry-run=client'] });
    declared = declaredMetrics((await daemon.get('/metrics', 'metrics')).text);
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });

  it('reads the metric names of expressions, not functions, labels or keywords', () => {
    expect(metricsOf('histogram_quantile(0.99, sum by (le, lane) (rate(reflex_queue_latency_seconds_bucket{namespace=~"$namespace"}[5m])))')).to.deep.equal(['reflex_queue_latency_seconds_bucket']);
    expect(metricsOf('(sum by (namespace) (reflex_leader{namespace="x"}) < 1) or absent(reflex_leader{namespace="x"})')).to.deep.equal(['reflex_leader']);
    expect(metricsOf('sum(process_resident_memory_bytes) / 1e9')).to.deep.equal(['process_resident_memory_bytes']);
  });

  it('ships a dashboard whose JSON parses and whose every query reads a metric the daemon serves', () => {
    const cm = only(render(fx.ns, { grafana: { dashboard: { enabled: true } } }), 'ConfigMap', 'rx-reflex-dashboard') as unknown as { data: Record<string, string>; metadata: { labels: Record<string, string> } };
    expect(cm.metadata.labels.grafana_dashboard).to.equal('1');
    const dashboard = JSON.parse(cm.data['reflex.json']) as { panels: { title: string; targets: { expr: string }[] }[]; templating: { list: { query: unknown }[] } };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).to.be.greaterThan(10);
    const used = new Set(exprs.flatMap(metricsOf));
    for (const v of dashboard.templating.list) {
      const q = (v.query as { query?: string })?.query;
      const m = q && /label_values\((\w+)/.exec(q);
      if (m) used.add(m[1]);
    }
    expect([...used].filter((m) => !declared.has(m)), 'metrics the dashboard queries that /metrics does not declare').to.deep.equal([]);
    expect(used).to.include.members(['reflex_rule_keys_in_retry', 'reflex_leader', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds']);
  });

  it('ships a PrometheusRule whose four alerts read only metrics the daemon serves', () => {
    const pr = only(render(fx.ns, { prometheusRule: { enabled: true } }), 'PrometheusRule') as unknown as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } };
    const rules = pr.spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).to.deep.equal(['ReflexRuleFailing', 'ReflexKeysStuckInRetry', 'ReflexWatchesRestarting', 'ReflexLeaderMissing']);
    for (const r of rules) {
      const used = metricsOf(r.expr);
      expect(used.length, r.alert).to.be.greaterThan(0);
      expect(used.filter((m) => !declared.has(m)), `${r.alert}: ${r.expr}`).to.deep.equal([]);
      expect(r.expr, r.alert).to.contain(`namespace="${fx.ns}"`);
    }
  });
});
