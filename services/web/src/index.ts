export * from './config.js';
export * from './auth.js';
export { buildServer } from './server.js';
export { startWeb, type RunningWeb } from './web.js';
