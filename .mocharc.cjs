// Mocha runs the compiled tests (npm test builds first). Integration tests
// (*.int.test.js) need the control plane; REFLEX_SKIP_CLUSTER=1 leaves them out.
const skipCluster = process.env.REFLEX_SKIP_CLUSTER === '1';
module.exports = {
  spec: ['dist/test/**/*.test.js'],
  ignore: skipCluster ? ['dist/test/**/*.int.test.js'] : [],
  require: ['dist/test/support/hooks.js'],
  reporter: 'test/support/reporter.cjs',
  timeout: 20000,
  slow: 2000,
  exit: true,
};
