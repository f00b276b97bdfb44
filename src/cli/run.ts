/**
 * `reflex run`: the daemon. Flags override the config file, which overrides defaults.
 * A bad configuration (flags, file, environment, kubeconfig) is one line on stderr and
 * exit 2, before anything touches the cluster. SIGTERM/SIGINT stop it gracefully (exit 0);
 * a second signal exits at once.
 */
import { errorMessage } from '../core/index.js';
import { KubeconfigError } from '../client/index.js';
import { createLogger, Daemon, DaemonConfigError, loadDaemonConfig, parseRunFlags, RUN_FLAGS_USAGE } from '../daemon/index.js';
import type { CommandIO } from './commands.js';

export async function runRun(args: string[], io: CommandIO): Promise<number> {
  let config;
  try {
    const parsed = parseRunFlags(args);
    if (parsed.help) {
      io.out(`Usage: reflex run [options]\n\nRuns the automation daemon.\n\n${RUN_FLAGS_USAGE}`);
      return 0;
    }
    config = loadDaemonConfig({ file: parsed.config, flags: parsed.flags, env: process.env });
  } catch (err) {
    if (err instanceof DaemonConfigError) {
      io.err(`reflex run: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const stop = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      logger.warn('second signal: exiting at once', { signal: sig });
      process.exit(1);
    }
    logger.info('signal received: shutting down', { signal: sig });
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await new Daemon({ config, logger }).run(stop.signal);
    return 0;
  } catch (err) {
    const configProblem = err instanceof KubeconfigError;
    logger.error(configProblem ? 'bad configuration' : 'the daemon failed', { error: errorMessage(err) });
    io.err(`reflex run: ${errorMessage(err)}`);
    return configProblem ? 2 : 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await logger.flush();
  }
}
