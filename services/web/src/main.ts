import { createLogger, runService } from '@crm/runtime';
import { loadWebConfig } from './config.js';
import { startWeb } from './web.js';

await runService(createLogger('web'), () => loadWebConfig(), (config, logger, signal) => startWeb(config, logger, signal));
