// Spec reporter that ends the run with one closing line: "N passed, N failed"
// (", N skipped" when tests were skipped), and says loudly when integration
// tests were left out.
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class ReflexReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      if (process.env.REFLEX_SKIP_CLUSTER === '1') {
        console.log('\n!!! REFLEX_SKIP_CLUSTER=1: integration tests against the control plane were SKIPPED; this run proves only unit tests. !!!');
      }
      const skipped = s.pending > 0 ? `, ${s.pending} skipped` : '';
      console.log(`\n${s.passes} passed, ${s.failures} failed${skipped}`);
    });
  }
}
module.exports = ReflexReporter;
