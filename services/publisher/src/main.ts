import { createLogger, exitOnSignal, exitOnStartupError } from '@crm/runtime';
import { loadPublisherConfig } from './config.js';
import { startPublisher } from './publisher.js';

const logger = createLogger('publisher');
try {
  const config = loadPublisherConfig();
  logger.level = config.LOG_LEVEL;
  const service = await startPublisher(config, logger);
  exitOnSignal(logger, () => service.stop());
} catch (error) {
  exitOnStartupError(logger, error);
}
