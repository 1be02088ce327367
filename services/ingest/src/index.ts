export * from './config.js';
export * from './ingest.js';
export * from './process-batch.js';
export * from './decode-message.js';
export * from './streams.js';
export { STREAMS, type AnyStream } from './streams.js';
export * from './erase-customer.js';
export { compactRows, orderRow, surveyRow, type Row } from './rows.js';
export * from './group-commit.js';
