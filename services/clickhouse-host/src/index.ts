export { startClickHouseHost, type ClickHouseHost, type ClickHouseHostOptions } from './host.js';
