export * from './errors.js';
export * from './config.js';
export * from './logger.js';
export * from './retry.js';
export * from './shutdown.js';
export * from './health-server.js';
export * from './local-paths.js';
export * from './pid-files.js';
