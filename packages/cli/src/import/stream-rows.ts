import { SCHEMAS, type AvroField, type AvroType, type ClickEvent, type SurveyEvent, type TicketEvent } from '@crm/events';
import { skip, validated, type Mapped } from './mapped.js';
import { importEventId } from './order-rows.js';
import { parseDate, parseWhole, textAt, type SlashDates, type SourceRow } from './values.js';

export type RowStream = 'clicks' | 'tickets' | 'surveys';
type RowEvent = { clicks: ClickEvent; tickets: TicketEvent; surveys: SurveyEvent };

/** The field naming the source's own record, if the stream has one (a click has none: its content is its identity). */
const SOURCE_ID: Record<RowStream, string | undefined> = { clicks: undefined, tickets: 'ticket_id', surveys: 'response_id' };

const importable = (stream: RowStream) => SCHEMAS[stream].source.fields!.filter((f) => f.name !== 'event_id' && f.name !== 'schema_version');
const FIELDS: Record<RowStream, readonly AvroField[]> = { clicks: importable('clicks'), tickets: importable('tickets'), surveys: importable('surveys') };

/** The importable fields of a stream: the schema's, less what the import itself sets. */
export function streamFields(stream: RowStream): readonly AvroField[] {
  return FIELDS[stream];
}

/** Required fields the import fills in when the file has no value (below). */
const DEFAULTED: Record<RowStream, readonly string[]> = { clicks: ['anonymous_id'], tickets: [], surveys: ['scale_max'] };

/** The columns a CSV must have for any row to become an event: those of the required fields the import cannot fill. */
export function neededColumns(stream: RowStream, columns: Readonly<Record<string, string>>): string[][] {
  return FIELDS[stream].filter((f) => !Array.isArray(f.type) && !DEFAULTED[stream].includes(f.name)).map((f) => [columns[f.name] ?? f.name]);
}

/** Survey scales are fixed per kind except csat's (5 or 7: 5, the common one, when the file has none). */
const SCALE_OF_KIND: Record<string, number> = { nps: 10, ces: 7, csat: 5 };

/**
 * One row of a clicks, tickets or surveys file to its event. Fields come from the schema: our
 * field name is the column unless `columns` maps it; enum values are matched in lower case;
 * blank optional fields are null. The validator decides the rest, as in ingest.
 */
export function rowToEvent<S extends RowStream>(stream: S, row: SourceRow, columns: Readonly<Record<string, string>>, slashes?: SlashDates): Mapped<RowEvent[S]> {
  const content: Record<string, unknown> = {};
  for (const field of streamFields(stream)) {
    const column = columns[field.name] ?? field.name;
    const text = textAt(row, column);
    const { base, optional } = unwrap(field.type);
    if (text === undefined) {
      content[field.name] = optional ? null : undefined;
      continue;
    }
    if (base === 'timestamp-millis') {
      const at = parseDate(text, slashes);
      if (at === undefined) return skip(`${field.name} is not a date (column ${column})`, text);
      content[field.name] = at;
    } else if (base === 'int') content[field.name] = parseWhole(text) ?? text;
    else if (base === 'enum') content[field.name] = text.toLowerCase().replaceAll(' ', '_').replaceAll('-', '_');
    else content[field.name] = text;
  }
  if (stream === 'clicks' && content.anonymous_id === undefined && typeof content.customer_id === 'string') {
    // A logged-in visitor's click without a device id: the customer is the visitor.
    content.anonymous_id = content.customer_id;
  }
  if (stream === 'surveys' && content.scale_max === undefined && typeof content.kind === 'string' && content.kind in SCALE_OF_KIND) {
    content.scale_max = SCALE_OF_KIND[content.kind];
  }
  for (const field of streamFields(stream)) {
    if (content[field.name] === undefined) return skip(`missing ${field.name} (column ${columns[field.name] ?? field.name})`);
  }
  const customer = typeof content.customer_id === 'string' ? content.customer_id : undefined;
  const key = customer ?? String(content.anonymous_id);
  const idField = SOURCE_ID[stream];
  const sourceId = idField === undefined ? key : String(content[idField]);
  const ordered = { occurred_at: content.occurred_at, schema_version: 1, ...content };
  return validated(stream, { event_id: importEventId(stream, sourceId, ordered), ...ordered }, key) as Mapped<RowEvent[S]>;
}

function unwrap(type: AvroType): { base: string; optional: boolean } {
  if (Array.isArray(type)) {
    const inner = type.find((t) => t !== 'null')!;
    return { base: unwrap(inner).base, optional: true };
  }
  if (typeof type === 'string') return { base: type, optional: false };
  return { base: type.logicalType ?? type.type, optional: false };
}
