import { statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createKafka, type KafkaConnectionConfig } from '@crm/kafka';
import { createLogger } from '@crm/runtime';
import { IMPORT_STREAMS, type ImportStream } from './mapped.js';
import { groupToOrder } from './order-rows.js';
import { ORDER_PRESETS, ORDER_PRESET_NAMES, PLAIN_ORDERS, neededOrderColumns, withColumns, type OrderPresetName } from './presets.js';
import { progressWriter } from './progress.js';
import { csvHeader, type FileFormat } from './read-rows.js';
import { formatReport, newReport } from './report.js';
import { ingestOutcome, runImport, waitUntilIngested, type ImportPlan, type ImportTarget } from './run-import.js';
import { neededColumns, rowToEvent, streamFields } from './stream-rows.js';
import { UsageError } from '../usage-error.js';

export const IMPORT_USAGE = `crm import <orders|clicks|tickets|surveys> --file F [options]
    --preset NAME      orders as a platform exports them: ${ORDER_PRESET_NAMES.join(', ')} (docs/INGEST.md)
    --format F         csv or ndjson (default: the preset's, else from the file name)
    --map f=col,…      our field = the file's column (overrides the preset's); orders: customer_id, order_id,
                       placed_at, occurred_at, total, refunded_amount, status, cancelled_at, currency, channel,
                       payment_method, item_sku, item_quantity, item_unit_price, item_category; other streams:
                       their schema's fields (schemas/*.avsc)
    --currency CODE    orders whose file names no currency (default CRM_REPORTING_CURRENCY)
    --dry-run          read, map and validate; report; send nothing
    --wait             wait until ingest has taken the events, then report what it accepted and dead-lettered
    --report FILE      also write the report as JSON`;

/** What the import needs of the CLI's settings. */
export interface ImportSettings {
  kafka: KafkaConnectionConfig;
  namespace: string;
  topics: Record<ImportStream | 'deadLetter', string>;
  reportingCurrency: string;
  ingestGroup: string;
}

interface ImportArgs {
  stream: ImportStream;
  file: string;
  preset: OrderPresetName | undefined;
  format: FileFormat;
  map: Record<string, string>;
  currency: string | undefined;
  dryRun: boolean;
  wait: boolean;
  reportFile: string | undefined;
}

export function parseImportArgs(argv: string[]): ImportArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        file: { type: 'string' },
        preset: { type: 'string' },
        format: { type: 'string' },
        map: { type: 'string' },
        currency: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        wait: { type: 'boolean', default: false },
        report: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { positionals, values } = parsed;
  const stream = positionals[0] as ImportStream;
  if (positionals.length !== 1 || !IMPORT_STREAMS.includes(stream)) throw new UsageError(`import takes one stream: ${IMPORT_STREAMS.join(', ')}`);
  if (values.file === undefined) throw new UsageError(`import ${stream} needs --file <path>`);
  if (!statSync(values.file, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`--file: ${values.file} is not a file`);
  const preset = values.preset as OrderPresetName | undefined;
  if (preset !== undefined && !ORDER_PRESET_NAMES.includes(preset)) throw new UsageError(`--preset: one of ${ORDER_PRESET_NAMES.join(', ')}, not ${preset}`);
  if (preset !== undefined && stream !== 'orders') throw new UsageError(`--preset is for orders exports; ${stream} are imported by --map`);
  const format = values.format ?? (preset ? ORDER_PRESETS[preset].format : /\.csv$/i.test(values.file) ? 'csv' : 'ndjson');
  if (format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format: csv or ndjson, not ${format}`);
  if (values.wait && values['dry-run']) throw new UsageError('--dry-run sends nothing, so there is nothing to --wait for');
  return {
    stream,
    file: values.file,
    preset,
    format,
    map: parseMap(values.map),
    currency: values.currency,
    dryRun: values['dry-run'],
    wait: values.wait,
    reportFile: values.report,
  };
}

/** `customer_id=Email,order_id=Name` → { customer_id: 'Email', order_id: 'Name' }. */
function parseMap(text: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of text?.split(',') ?? []) {
    const at = pair.indexOf('=');
    const field = pair.slice(0, at).trim();
    const column = pair.slice(at + 1).trim();
    if (at < 1 || column === '') throw new UsageError(`--map: "${pair}" is not field=column`);
    map[field] = column;
  }
  return map;
}

/** How each unit of the file becomes an event: by the preset (or our names) for orders, by the schema for the rest. */
export function importPlan(args: Omit<ImportArgs, 'dryRun' | 'wait' | 'reportFile'>, reportingCurrency: string): ImportPlan {
  if (args.stream === 'orders') {
    let preset;
    try {
      preset = withColumns(args.preset === undefined ? PLAIN_ORDERS : ORDER_PRESETS[args.preset], args.map);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const defaults = { currency: args.currency?.toUpperCase() ?? reportingCurrency, channel: 'web', paymentMethod: 'credit' } as const;
    return {
      file: args.file,
      format: args.format,
      needs: neededOrderColumns(preset),
      ...(preset.grouping.by === 'consecutive' ? { groupBy: preset.grouping.key } : {}),
      toEvent: (group) => groupToOrder(group, preset, defaults),
    };
  }
  const stream = args.stream;
  const fields = streamFields(stream).map((f) => f.name);
  const unknown = Object.keys(args.map).filter((f) => !fields.includes(f));
  if (unknown.length > 0) throw new UsageError(`--map: ${unknown.join(', ')} not a field of ${stream}; fields: ${fields.join(', ')}`);
  return {
    file: args.file,
    format: args.format,
    needs: neededColumns(stream, args.map),
    toEvent: (group) => rowToEvent(stream, group.rows[0]!, args.map),
  };
}

/** A CSV without the columns the mapping reads would skip every row for one reason; say so before reading it all. */
function checkHeader(plan: ImportPlan, header: readonly string[]): void {
  const missing = plan.needs.filter((alternatives) => alternatives.length > 0 && !alternatives.some((c) => header.includes(c)));
  if (missing.length > 0) {
    const shown = header.slice(0, 30).join(', ') + (header.length > 30 ? ', …' : '');
    throw new UsageError(`${plan.file} has no column ${missing.map((m) => m.join(' or ')).join(', no ')} (its columns: ${shown}); another --preset, or --map field=column?`);
  }
}

/** The CSV preset whose columns the header has, if any: a user who maps a platform's export by hand is told of its preset. */
export function looksLike(header: readonly string[]): OrderPresetName | undefined {
  return ORDER_PRESET_NAMES.find((name) => {
    const preset = ORDER_PRESETS[name];
    return preset.format === 'csv' && neededOrderColumns(preset).every((alternatives) => alternatives.some((c) => header.includes(c)));
  });
}

/** `crm import …`: returns the exit code (2 for a usage error, 1 when nothing could be imported). */
export async function importCommand(argv: string[], settings: ImportSettings, say: (line: string) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`usage: ${IMPORT_USAGE}\n`);
    return 0;
  }
  let args: ImportArgs;
  let plan: ImportPlan;
  try {
    args = parseImportArgs(argv);
    plan = importPlan(args, settings.reportingCurrency);
    if (args.format === 'csv') {
      const header = await csvHeader(plan.file);
      checkHeader(plan, header);
      const like = args.stream === 'orders' && args.preset === undefined ? looksLike(header) : undefined;
      if (like !== undefined) say(`crm: ${args.file} looks like a ${like} export; --preset ${like} reads it as one (line items grouped, statuses mapped)`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(`crm: ${error.message}\n\nusage: ${IMPORT_USAGE}`);
    return 2;
  }
  const report = newReport(args.stream, args.preset ?? null, args.file, args.dryRun);
  const kafka = args.dryRun ? undefined : createKafka(settings.kafka, { clientId: 'crm-import', logger: createLogger('crm', 'error') });
  const target: ImportTarget | undefined = kafka && { kafka, topic: settings.topics[args.stream], deadLetterTopic: settings.topics.deadLetter };
  const progress = progressWriter(process.stderr);
  const rate = () => Math.round(report.rows / Math.max(report.seconds, 0.001));
  const marks = await runImport(plan, target, report, () =>
    progress.update(`importing ${args.stream}: ${report.rows} rows read, ${report.events} events, ${report.sent} sent, ${report.skipped.events} skipped (${rate()} rows/s)`),
  );
  progress.done();
  if (target !== undefined && marks !== undefined && args.wait) {
    await waitUntilIngested(target.kafka, target.topic, {
      namespace: settings.namespace,
      ingestGroup: settings.ingestGroup,
      timeoutMs: 600_000,
      onProgress: (done, total) => progress.update(`waiting for ingest: ${done} of ${total} messages on ${target.topic} committed`),
    });
    progress.done();
    report.ingest = await ingestOutcome(target.kafka, target, marks, report);
  }
  for (const line of formatReport(report)) say(line);
  say(`(${report.seconds.toFixed(1)} s, ${rate()} rows/s)`);
  if (args.reportFile !== undefined) writeFileSync(args.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  if (report.rows > 0 && report.events === 0) return 1;
  if (report.ingest !== undefined && report.sent > 0 && report.ingest.accepted === 0) return 1;
  return 0;
}
