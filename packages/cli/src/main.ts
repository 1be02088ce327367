import { parseArgs } from 'node:util';
import { argumentsAsTyped } from './typed-arguments.js';
import { BROKEN_PIPE, exitQuietlyOnBrokenPipe, exitWhenFlushed, isBrokenPipe } from './exit.js';
import { UsageError } from './usage-error.js';

const USAGE = `usage: crm <command> [options]   (bin/crm in the repository; pnpm crm in scripts)

  up                        start the local stack (Kafka, topics, ClickHouse host, migrations, services)
  down                      stop it
  init                      create missing topics and apply migrations on the configured Kafka and ClickHouse
  status                    what runs and where
  demo [--customers N] [--seed S]
                            start the stack, produce a seeded sample of orders, wait until all are
                            in ClickHouse, score, and print a summary
  score [--as-of ISO]       run scoring now (or as of a past instant) with the scoring service's settings
                            (SCORING_*, CLV_*, RISK_*); waits for the write lease if the service is writing
  import orders --file F [--format csv|ndjson] [--map field=column,…] [--currency CODE] [--wait]
                            backfill orders through Kafka; fields: customer_id, order_id, placed_at (ISO or
                            yyyyMMdd), total, refunded_amount, status, currency, channel, payment_method;
                            --currency defaults to CRM_REPORTING_CURRENCY; --wait reports what ingest
                            stored and what it dead-lettered, with reasons
  tail <topic> [--follow] [--max N]
                            print a topic's messages decoded (JSON or Avro), one JSON object per line
  dlq replay [--reason CODE]
                            re-inject dead letters (all, or one reason such as missing_fx_rate) into their
                            source topics; what still fails is dead-lettered again with its reason
  sql "<query>" | --file F | < F  [--format F]
                            run a query given as the argument, in a file, or on standard input; a readable
                            table by default, or any ClickHouse format (TSV, JSONEachRow, …); every row
                            reaches the reader, and the exit status is not 0 if one could not

Settings (environment): CRM_HOME (.local), CRM_KAFKA_PORT (9092), CRM_CLICKHOUSE_PORT (8123),
KAFKA_BROKERS, CLICKHOUSE_URL (a real server instead of the embedded one), CLICKHOUSE_DATABASE (crm).`;

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'PrettyCompactMonoBlock' },
      customers: { type: 'string', default: '500' },
      seed: { type: 'string', default: '42' },
      'as-of': { type: 'string' },
      reason: { type: 'string' },
      file: { type: 'string' },
      map: { type: 'string' },
      currency: { type: 'string' },
      wait: { type: 'boolean', default: false },
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
  // Each command imports what it needs when it runs (so does this): `crm --help` loads no library,
  // `crm sql` not the models or the scoring code.
  const { loadStackConfig } = await import('./stack/settings.js');
  const config = loadStackConfig();
  const clickhouse = async () => (await import('@crm/clickhouse')).createClickHouse(config, { quiet: true });

  switch (command) {
    case 'up': {
      const { up } = await import('./stack/stack.js');
      await up(config, say);
      return 0;
    }
    case 'init': {
      const { init } = await import('./stack/stack.js');
      await init(config, say);
      return 0;
    }
    case 'down': {
      const { down } = await import('./stack/stack.js');
      await down(config, say);
      return 0;
    }
    case 'status': {
      const { status } = await import('./stack/stack.js');
      process.stdout.write(`${status(config).join('\n')}\n`);
      return 0;
    }
    case 'sql': {
      const { runSql, sqlQuery } = await import('./commands/sql.js');
      const query = await sqlQuery({ positionals: rest, file: values.file, stdin: process.stdin });
      const client = await clickhouse();
      try {
        await runSql(client, query, values.format, process.stdout);
      } finally {
        await client.close();
      }
      return 0;
    }
    case 'score': {
      const { createLogger } = await import('@crm/runtime');
      const { createWriteLease, loadScoringConfig, runScoring, scoringParameters, writeLeaseOptions } = await import('@crm/scoring');
      const asOf = values['as-of'] === undefined ? new Date() : new Date(values['as-of']);
      if (Number.isNaN(asOf.getTime())) throw new UsageError(`--as-of: not an instant: ${values['as-of']}`);
      // A future as-of would make its profiles "newest" and freeze them and their events until the clock passes it.
      if (asOf.getTime() > Date.now()) throw new UsageError(`--as-of: ${values['as-of']} is in the future; scoring can only look at what has happened`);
      // The service's own settings: SCORING_WINDOW_DAYS, the thresholds and the lease mean the same here.
      const scoring = loadScoringConfig();
      const logger = createLogger('scoring', 'warn');
      const client = await clickhouse();
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
      const { createLogger } = await import('@crm/runtime');
      const { brokerList, createKafka, topicNames } = await import('@crm/kafka');
      const { loadScoringConfig, scoringParameters } = await import('@crm/scoring');
      const { up } = await import('./stack/stack.js');
      const { runDemo } = await import('./commands/demo.js');
      const { printSummary } = await import('./commands/summary.js');
      const { sentAlerts, waitForPublisher } = await import('./commands/alerts.js');
      const customers = positiveInt('--customers', values.customers);
      const seed = positiveInt('--seed', values.seed);
      const started = Date.now();
      await up(config, say);
      const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-demo', logger: createLogger('crm', 'error', 'stderr') });
      const client = await clickhouse();
      const topics = topicNames(config.CRM_TOPIC_NAMESPACE);
      const scoring = loadScoringConfig();
      const parameters = scoringParameters(scoring);
      try {
        await runDemo(kafka, client, { seed, customers, ordersTopic: topics.orders, timeoutMs: 300_000, scoring }, say);
        await waitForPublisher(kafka, client, topics, { timeoutMs: 120_000, say });
        await printSummary(client, process.stdout, { risk: parameters.risk, sent: await sentAlerts(kafka, topics) });
      } finally {
        await client.close();
      }
      say(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s; the stack keeps running (bin/crm status, bin/crm down)`);
      say(`try: bin/crm sql "SELECT * FROM customer_profiles FINAL ORDER BY revenue_total DESC LIMIT 5"`);
      return 0;
    }
    case 'import': {
      if (rest[0] !== 'orders' || rest.length !== 1) throw new UsageError('import takes one kind: orders');
      if (values.file === undefined) throw new UsageError('import orders needs --file <path>');
      const { createLogger } = await import('@crm/runtime');
      const { brokerList, createKafka, topicNames } = await import('@crm/kafka');
      const { importOrders, ingestOutcome, waitUntilIngested } = await import('./import/import-orders.js');
      const { parseMapping } = await import('./import/order-rows.js');
      const format = values.format === 'PrettyCompactMonoBlock' ? (values.file.endsWith('.csv') ? 'csv' : 'ndjson') : values.format;
      if (format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format: csv or ndjson, not ${format}`);
      const kafka = createKafka({ brokers: brokerList(config.KAFKA_BROKERS), clientId: 'crm-import', logger: createLogger('crm', 'error') });
      const { orders: ordersTopic, deadLetter: deadLetterTopic } = topicNames(config.CRM_TOPIC_NAMESPACE);
      const counts = await importOrders(kafka, {
        deadLetterTopic,
        file: values.file,
        format,
        mapping: parseMapping(values.map),
        defaults: { currency: values.currency ?? config.CRM_REPORTING_CURRENCY, channel: 'web', paymentMethod: 'credit', status: 'delivered' },
        ordersTopic,
        onProgress: (c) => process.stderr.write(`\rimporting: ${c.rows} rows read, ${c.accepted} sent, ${c.rejected} rejected`),
      });
      process.stderr.write('\n');
      for (const r of counts.rejections) say(`  line ${r.line}: ${r.reason}`);
      say(`accepted ${counts.accepted} of ${counts.rows} rows; rejected ${counts.rejected}`);
      if (values.wait) {
        await waitUntilIngested(kafka, ordersTopic, {
          namespace: config.CRM_TOPIC_NAMESPACE,
          ingestGroup: process.env.INGEST_GROUP_ID || 'crm-ingest',
          timeoutMs: 600_000,
          onProgress: (done, total) => process.stderr.write(`\rwaiting for ingest: ${done}/${total}`),
        });
        process.stderr.write('\n');
        const outcome = await ingestOutcome(kafka, { ordersTopic, deadLetterTopic, sent: counts.sent });
        const rejected = [...outcome.deadLettered.values()].reduce((a, b) => a + b, 0);
        say(`ingest stored ${outcome.stored} of ${counts.sent.lineOf.size} sent orders in ClickHouse; dead-lettered ${rejected}`);
        for (const [code, n] of outcome.deadLettered) say(`  ${code}: ${n}`);
        for (const e of outcome.examples) say(`  line ${e.line}: ${e.code}: ${e.message}`);
        if (rejected > 0) say('  (crm dlq replay --reason CODE re-injects them once the cause is fixed)');
        return outcome.stored === 0 && counts.sent.lineOf.size > 0 ? 1 : 0;
      }
      return counts.rejected > 0 && counts.accepted === 0 ? 1 : 0;
    }
    case 'tail': {
      if (rest.length !== 1) throw new UsageError('tail takes one topic, e.g. crm.segment-changes.v1');
      const { createLogger } = await import('@crm/runtime');
      const { TOPIC_BASE_NAMES, brokerList, createKafka, topicNames } = await import('@crm/kafka');
      const { tailTopic } = await import('./tail/tail-topic.js');
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
      const { createLogger } = await import('@crm/runtime');
      const { brokerList, createKafka, topicNames } = await import('@crm/kafka');
      const { replayDeadLetters } = await import('./dead-letters/replay.js');
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

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${name}: expected a positive whole number, got ${text}`);
  return n;
}

exitQuietlyOnBrokenPipe((error) => {
  say(`crm: cannot write the output: ${error.message}`);
  exitWhenFlushed(1);
});
main(argumentsAsTyped(process.argv.slice(2), process.env)).then(exitWhenFlushed, async (error: unknown) => {
  if (isBrokenPipe(error)) return exitWhenFlushed(BROKEN_PIPE);
  const { ConfigError, errorMessage } = await import('@crm/runtime');
  if (error instanceof UsageError) say(`crm: ${error.message}\n\n${USAGE}`);
  else if (error instanceof ConfigError) say(`crm: ${error.message}`);
  else say(`crm: ${errorMessage(error)}`);
  exitWhenFlushed(error instanceof UsageError ? 2 : 1);
});
