import type { Logger } from 'pino';
import { loggableError } from './errors.js';

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits. A second signal, or a stop
 * that hangs past `timeoutMs`, exits at once with a non-zero code.
 */
export function exitOnSignal(logger: Logger, stop: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** Reports a start-up failure readably and exits; configuration errors print their list of problems. */
export function exitOnStartupError(logger: Logger, error: unknown): never {
  logger.fatal({ err: error }, loggableError(error).message);
  process.exit(1);
}

/**
 * A service's entry point: configuration first (a bad setting stops start-up
 * naming it), then `start`, which waits for its dependencies however long
 * they take. SIGTERM and SIGINT stop it cleanly at any point, also while it is
 * still waiting at start-up.
 */
export async function runService<C extends { LOG_LEVEL: string }>(
  logger: Logger,
  loadConfig: () => C,
  start: (config: C, logger: Logger, signal: AbortSignal) => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  const stopping = new AbortController();
  let starting: Promise<{ stop(): Promise<void> } | undefined> = Promise.resolve(undefined);
  try {
    const config = loadConfig();
    logger.level = config.LOG_LEVEL;
    exitOnSignal(logger, async () => {
      stopping.abort();
      const service = await starting;
      await service?.stop();
    });
    starting = start(config, logger, stopping.signal).catch((error: unknown) => {
      // Stopping during start-up is not a failure: the signal handler exits.
      if (stopping.signal.aborted) return undefined;
      throw error;
    });
    await starting;
  } catch (error) {
    exitOnStartupError(logger, error);
  }
}
