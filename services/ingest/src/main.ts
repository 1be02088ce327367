import { createLogger, exitOnSignal, exitOnStartupError } from '@crm/runtime';
import { loadIngestConfig } from './config.js';
import { startIngest } from './ingest.js';

const logger = createLogger('ingest');
try {
  const config = loadIngestConfig();
  logger.level = config.LOG_LEVEL;
  const service = await startIngest(config, logger, (error) => {
    // Exiting lets the supervisor restart us; uncommitted batches are consumed again.
    logger.fatal({ err: error }, 'consumer crashed and will not restart');
    process.exit(1);
  });
  exitOnSignal(logger, () => service.stop());
} catch (error) {
  exitOnStartupError(logger, error);
}
