import { createLogger, runService } from '@crm/runtime';
import { loadPublisherConfig } from './config.js';
import { startPublisher } from './publisher.js';

await runService(createLogger('publisher'), () => loadPublisherConfig(), (config, logger, signal) => startPublisher(config, logger, { signal }));
