import { createLogger, exitOnSignal, exitOnStartupError } from '@crm/runtime';
import { loadScoringConfig } from './config.js';
import { startScoring } from './scoring.js';

const logger = createLogger('scoring');
try {
  const config = loadScoringConfig();
  logger.level = config.LOG_LEVEL;
  const service = await startScoring(config, logger);
  exitOnSignal(logger, () => service.stop());
} catch (error) {
  exitOnStartupError(logger, error);
}
