/** The first lines kept per skip reason or dead-letter reason; the counts are always complete. */
const EXAMPLES = 5;

export interface SkipReason {
  reason: string;
  /** Units skipped (a row, or an order's rows). */
  events: number;
  /** Source rows in them. */
  rows: number;
  /** The first units: the line each starts on and what it held. */
  examples: { line: number; detail?: string }[];
}

export interface DeadLetterReason {
  code: string;
  events: number;
  examples: { line: number; message: string }[];
}

/** What an import did, as printed and as written by --report (JSON). */
export interface ImportReport {
  stream: string;
  preset: string | null;
  file: string;
  dryRun: boolean;
  /** Source rows read (NDJSON: non-blank lines). */
  rows: number;
  /** Events made from them (one per order for grouped line items). */
  events: number;
  /** Events sent to Kafka (0 in a dry run). */
  sent: number;
  skipped: { events: number; rows: number; reasons: SkipReason[] };
  /** With --wait: what ingest made of the sent events. */
  ingest?: { accepted: number; deadLettered: number; reasons: DeadLetterReason[] };
  seconds: number;
}

export function newReport(stream: string, preset: string | null, file: string, dryRun: boolean): ImportReport {
  return { stream, preset, file, dryRun, rows: 0, events: 0, sent: 0, skipped: { events: 0, rows: 0, reasons: [] }, seconds: 0 };
}

/**
 * Counts a skipped unit under its reason, in the order first met. Reasons are templates (the value
 * that failed goes in the detail), so there are few of them whatever the file's size.
 */
export function recordSkip(report: ImportReport, index: Map<string, SkipReason>, skip: { line: number; rows: number; reason: string; detail?: string }): void {
  let entry = index.get(skip.reason);
  if (entry === undefined) {
    entry = { reason: skip.reason, events: 0, rows: 0, examples: [] };
    index.set(skip.reason, entry);
    report.skipped.reasons.push(entry);
  }
  entry.events++;
  entry.rows += skip.rows;
  report.skipped.events++;
  report.skipped.rows += skip.rows;
  if (entry.examples.length < EXAMPLES) entry.examples.push(skip.detail === undefined ? { line: skip.line } : { line: skip.line, detail: skip.detail });
}

export function recordDeadLetter(reasons: DeadLetterReason[], code: string, line: number, message: string): void {
  let entry = reasons.find((r) => r.code === code);
  if (entry === undefined) {
    entry = { code, events: 0, examples: [] };
    reasons.push(entry);
  }
  entry.events++;
  if (entry.examples.length < EXAMPLES) entry.examples.push({ line, message });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The report for people: what became of the rows, why some were skipped, what ingest did with the rest. */
export function formatReport(report: ImportReport): string[] {
  const unit = report.stream === 'orders' ? 'order' : 'event';
  const lines = [
    `${report.dryRun ? 'dry run: ' : ''}${plural(report.rows, 'row')} read from ${report.file}${report.preset ? ` (preset ${report.preset})` : ''}: ` +
      `${plural(report.events, unit)} ${report.dryRun ? 'valid, nothing sent' : `made, ${report.sent} sent`}; ` +
      `skipped ${plural(report.skipped.events, unit)} (${plural(report.skipped.rows, 'row')})`,
  ];
  for (const r of report.skipped.reasons) {
    const where = r.examples.map((e) => `line ${e.line}${e.detail === undefined ? '' : ` (${e.detail})`}`).join(', ');
    lines.push(`  skipped ${r.events} × ${r.reason}${r.rows !== r.events ? ` [${r.rows} rows]` : ''}: ${where}${r.events > r.examples.length ? ', …' : ''}`);
  }
  if (report.ingest !== undefined) {
    lines.push(`ingest accepted ${report.ingest.accepted} of ${report.sent} sent ${unit}s; dead-lettered ${report.ingest.deadLettered}`);
    for (const r of report.ingest.reasons) {
      lines.push(`  dead-lettered ${r.events} × ${r.code}: ${r.examples.map((e) => `line ${e.line}: ${e.message}`).join('; ')}${r.events > r.examples.length ? '; …' : ''}`);
    }
    if (report.ingest.deadLettered > 0) lines.push('  (crm dlq replay --reason CODE re-injects them once the cause is fixed)');
  }
  return lines;
}
