import { parseArgs } from 'node:util';
import { ConfigError, createLogger, errorMessage } from '@crm/runtime';
import { TOPIC_BASE_NAMES, brokerList, createKafka, topicNames } from '@crm/kafka';
import { createClickHouse } from '@crm/clickhouse';
import { createWriteLease, loadScoringConfig, runScoring, scoringParameters, writeLeaseOptions } from '@crm/scoring';
import { loadStackConfig } from './stack/settings.js';
import { down, init, status, up } from './stack/stack.js';
import { runSql } from './commands/sql.js';
import { runDemo } from './commands/demo.js';
import { printSummary } from './commands/summary.js';
import { sentAlerts, waitForPublisher } from './commands/alerts.js';
import { replayDeadLetters } from './dead-letters/replay.js';
import { importCommand } from './import/command.js';
import { tailTopic } from './tail/tail-topic.js';

const USAGE = `usage: pnpm crm <command> [options]

  up                        start the local stack (Kafka, topics, ClickHouse host, migrations, services)
  down                      stop it
  init                      create missing topics and apply migrations on the configured Kafka and ClickHouse
  status                    what runs and where
  demo [--customers N] [--seed S]
                            start the stack, produce a seeded sample of orders, wait until all are
                            in ClickHouse, score, and print a summary
  score [--as-of ISO]       run scoring now (or as of a past instant) with the scoring service's settings
                            (SCORING_*, CLV_*, RISK_*); waits for the write lease if the service is writing
  import <orders|clicks|tickets|surveys> --file F [--preset P] [--map field=column,…] [--dry-run] [--wait] [--report FILE]
                            backfill history through Kafka (the real path); presets read Shopify, WooCommerce,
                            Magento and Online Retail order exports; \`crm import --help\` for all options
  tail <topic> [--follow] [--max N]
                            print a topic's messages decoded (JSON or Avro), one JSON object per line
  dlq replay [--reason CODE]
                            re-inject dead letters (all, or one reason such as missing_fx_rate) into their
                            source topics; what still fails is dead-lettered again with its reason
  sql "<query>" [--format F]
                            run a query; a readable table by default, or any ClickHouse format (TSV, JSONEachRow, …)

Settings (environment): CRM_HOME (.local), CRM_KAFKA_PORT (9092), CRM_CLICKHOUSE_PORT (8123),
KAFKA_BROKERS, CLICKHOUSE_URL (a real server instead of the embedded one), CLICKHOUSE_DATABASE (crm).`;

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'import') return importCommand(argv.slice(1), importSettings(), say);
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'PrettyCompactMonoBlock' },
      customers: { type: 'string', default: '500' },
      seed: { type: 'string', default: '42' },
      'as-of': { type: 'string' },
      reason: { type: 'string' },
      follow: { type: 'boolean', default: false },
      max: { type: 'string', default: '1000000' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = loadStackConfig();
  const clickhouse = () => createClickHouse(config);

  switch (command) {
    case 'up':
      await up(config, say);
      return 0;
    case 'init':
      await init(config, say);
      return 0;
    case 'down':
      await down(config, say);
      return 0;
    case 'status':
      process.stdout.write(`${status(config).join('\n')}\n`);
      return 0;
    case 'sql': {
      if (rest.length !== 1) throw new UsageError('sql takes one query in quotes');
      const client = clickhouse();
      try {
        await runSql(client, rest[0]!, values.format, process.stdout);
      } finally {
        await client.close();
      }
      return 0;
    }
    case 'score': {
      const asOf = values['as-of'] === undefined ? new Date() : new Date(values['as-of']);
      if (Number.isNaN(asOf.getTime())) throw new UsageError(`--as-of: not an instant: ${values['as-of']}`);
      // A future as-of would make its profiles "newest" and freeze them and their events until the clock passes it.
      if (asOf.getTime() > Date.now()) throw new UsageError(`--as-of: ${values['as-of']} is in the future; scoring can only look at what has happened`);
      // The service's own settings: SCORING_WINDOW_DAYS, the thresholds and the lease mean the same here.
      const scoring = loadScoringConfig();
      const logger = createLogger('scoring', 'warn');
      const client = clickhouse();
      const lease = createWriteLease(client, writeLeaseOptions(scoring, logger));
      try {
        const run = await runScoring(client, asOf, scoringParameters(scoring), logger, lease);
        say(`scored ${run.customers} customers (${run.buyers} buyers) as of ${run.asOf.toISOString()} in ${run.ms} ms`);
        for (const fit of [run.fits.bgnbd, run.fits.mbgnbd, run.fits.gammaGamma]) {
          if (fit) say(`  ${fit.model}: ${Object.entries(fit.params).map(([k, v]) => `${k}=${v.toPrecision(4)}`).join(' ')} LL=${fit.logLikelihood.toFixed(1)} (${fit.customers} customers)`);
        }
        for (const failure of run.fits.failures) say(`  ${failure.model}: not fitted: ${failure.error}`);
      } finally {
        await lease.close();
        await client.close();
      }
      return 0;
    }
    case 'demo': {
      const customers = positiveInt('--customers', values.customers);
      const seed = positiveInt('--seed', values.seed);
      const started = Date.now();
      await up(config, say);
      const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-demo', logger: createLogger('crm', 'error', 'stderr') });
      const client = clickhouse();
      const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
      const scoring = loadScoringConfig();
      const parameters = scoringParameters(scoring);
      try {
        await runDemo(kafka, client, { seed, customers, ordersTopic: topics.orders, timeoutMs: 300_000, scoring }, say);
        await waitForPublisher(client, { timeoutMs: 120_000, say });
        await printSummary(client, process.stdout, { risk: parameters.risk, sent: await sentAlerts(kafka, topics) });
      } finally {
        await client.close();
      }
      say(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; the stack keeps running (pnpm crm status, pnpm crm down)`);
      say(`try: pnpm crm sql "SELECT * FROM customer_profiles FINAL ORDER BY revenue_total DESC LIMIT 5"`);
      return 0;
    }
    case 'tail': {
      if (rest.length !== 1) throw new UsageError('tail takes one topic, e.g. crm.segment-changes.v1');
      const names = topicNames(config.CRM_TOPIC_NAMESPACE);
      const base = rest[0]!;
      const key = (Object.keys(TOPIC_BASE_NAMES) as (keyof typeof TOPIC_BASE_NAMES)[]).find((k) => TOPIC_BASE_NAMES[k] === base || k === base);
      if (key === undefined) throw new UsageError(`unknown topic ${base}; one of ${Object.values(TOPIC_BASE_NAMES).join(', ')}`);
      const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-tail', logger: createLogger('crm', 'error') });
      const printed = await tailTopic(kafka, {
        topic: names[key],
        topicBase: TOPIC_BASE_NAMES[key],
        follow: values.follow,
        max: positiveInt('--max', values.max),
        write: (line) => process.stdout.write(`${line}\n`),
      });
      say(`${printed} messages`);
      return 0;
    }
    case 'dlq': {
      if (rest[0] !== 'replay' || rest.length !== 1) throw new UsageError('dlq takes one subcommand: replay');
      const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-dlq', logger: createLogger('crm', 'error') });
      const result = await replayDeadLetters(kafka, {
        deadLetterTopic: topicNames(config.CRM_TOPIC_NAMESPACE).deadLetter,
        namespace: config.CRM_TOPIC_NAMESPACE,
        ...(values.reason === undefined ? {} : { reason: values.reason }),
        onProgress: ({ scanned, replayed, total }) => say(`scanned ${scanned}/${total} dead letters, replayed ${replayed}`),
      });
      say(`replayed ${result.replayed} of ${result.scanned} dead letters${values.reason ? ` with reason ${values.reason}` : ''}`);
      for (const [topic, n] of Object.entries(result.byTopic)) say(`  ${topic}: ${n}`);
      if (result.refused.not_an_input_topic) say(`  not replayed: ${result.refused.not_an_input_topic} whose dlq.source.topic is not an input topic of this namespace`);
      if (result.refused.truncated) say(`  not replayed: ${result.refused.truncated} cut to a prefix (dlq.truncated; the original bytes are gone)`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

class UsageError extends Error {}

function importSettings() {
  const config = loadStackConfig();
  return {
    brokers: brokerList(config.KAFKA_BROKERS),
    namespace: config.CRM_TOPIC_NAMESPACE,
    topics: topicNames(config.CRM_TOPIC_NAMESPACE),
    reportingCurrency: config.CRM_REPORTING_CURRENCY,
    ingestGroup: process.env.INGEST_GROUP_ID || 'crm-ingest',
  };
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: expected a positive whole number, got ${text}`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) say(`crm: ${error.message}\n\n${USAGE}`);
    else if (error instanceof ConfigError) say(`crm: ${error.message}`);
    else say(`crm: ${errorMessage(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
