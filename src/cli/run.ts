/**
 * `reflex run`: the daemon. Flags override the config file, which overrides defaults.
 * A bad configuration (flags, file, environment, kubeconfig, a --rules path that does not exist)
 * is one line on stderr and exit 2, before anything touches the cluster. SIGTERM/SIGINT stop it
 * gracefully (exit 0); a second signal exits at once. Every error is printed once: before the
 * logger exists on stderr, afterwards in the log only.
 */
import { existsSync } from 'node:fs';
import { errorMessage } from '../core/index.js';
import { KubeconfigError } from '../client/index.js';
import { createLogger, Daemon, DaemonConfigError, loadDaemonConfig, type DaemonConfig } from '../daemon/index.js';
import { keepYoungGenerationSmall } from '../informers/index.js';
import { defineCommand } from './flags.js';
import type { CommandIO } from './io.js';
import { RUN_SPEC, runOverrides } from './run-flags.js';

/** Loads the configuration; a string is the one-line reason it cannot be used. */
function configure(values: Record<string, string | string[] | boolean | undefined>): DaemonConfig | string {
  let config: DaemonConfig;
  try {
    const parsed = runOverrides(values);
    config = loadDaemonConfig({ file: parsed.config, flags: parsed.flags, env: process.env });
  } catch (err) {
    if (err instanceof DaemonConfigError) return err.message;
    throw err;
  }
  const missing = config.rules.paths.filter((p) => !existsSync(p));
  if (missing.length > 0) return `--rules ${missing.join(', ')}: no such file or directory`;
  return config;
}

export const runCommand = defineCommand(RUN_SPEC, async ({ values }, io: CommandIO) => {
  const config = configure(values);
  if (typeof config === 'string') {
    io.err(`reflex run: ${config}`);
    return 2;
  }
  // The caches fill with objects that all survive: promote them at once (src/informers/heap.ts).
  keepYoungGenerationSmall();
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
    if (err instanceof KubeconfigError) {
      io.err(`reflex run: ${errorMessage(err)}`);
      return 2;
    }
    logger.error('the daemon failed', { error: errorMessage(err) });
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await logger.flush();
  }
});
