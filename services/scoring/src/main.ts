import { createLogger, runService } from '@crm/runtime';
import { loadScoringConfig } from './config.js';
import { startScoring } from './scoring.js';

await runService(createLogger('scoring'), () => loadScoringConfig(), (config, logger, signal) => startScoring(config, logger, { signal }));
