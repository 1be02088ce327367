import { createLogger, runService } from '@crm/runtime';
import { loadIngestConfig } from './config.js';
import { startIngest } from './ingest.js';

await runService(createLogger('ingest'), () => loadIngestConfig(), (config, logger, signal) => startIngest(config, logger, { signal }));
