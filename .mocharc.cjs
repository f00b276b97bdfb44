// Mocha runs the compiled tests (npm test builds first). Integration tests
// (*.int.test.js) need the control plane; REFLEX_SKIP_CLUSTER=1 leaves them out.
// Files named on the command line replace the default spec (mocha would add them to it).
const skipCluster = process.env.REFLEX_SKIP_CLUSTER === '1';
const namedFiles = process.argv.slice(2).some((a) => !a.startsWith('-') && /\.js$|dist\/test/.test(a));
module.exports = {
  ...(namedFiles ? {} : { spec: ['dist/test/**/*.test.js'] }),
  ignore: skipCluster ? ['dist/test/**/*.int.test.js'] : [],
  require: ['dist/test/support/hooks.js'],
  reporter: 'test/support/reporter.cjs',
  timeout: 20000,
  slow: 2000,
};
