import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface IngestMetrics {
  events: Counter<'topic' | 'outcome' | 'reason'>;
  batchSize: Histogram<'topic'>;
  writeSeconds: Histogram<'table'>;
  lag: Gauge<'topic' | 'partition'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
    events: new Counter({
      name: 'crm_ingest_events_total',
      help: 'Events consumed, by outcome (accepted, dead_lettered, suppressed: an erased customer\'s, dropped) and rejection reason',
      labelNames: ['topic', 'outcome', 'reason'],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'crm_ingest_batch_size',
      help: 'Messages per consumed batch',
      labelNames: ['topic'],
      buckets: [1, 10, 100, 500, 1000, 5000, 10000],
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'crm_ingest_write_seconds',
      help: 'Latency of one acknowledged ClickHouse insert',
      labelNames: ['table'],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'crm_ingest_consumer_lag',
      help: 'Messages behind the partition end after the last committed batch',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
  };
}
