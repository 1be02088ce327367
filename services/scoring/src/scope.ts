/**
 * An incremental update reads only its customers' rows. The point-in-time
 * views cannot take the customer list (a parameterized view needs every
 * parameter, and analysts call them with as_of alone), and their LIMIT BY and
 * window steps stop ClickHouse from pushing an outer filter down; the
 * `additional_table_filters` setting applies a filter where each table is
 * read, inside the views too. The results are the same — every scoped query
 * also filters its output — only the work shrinks to the customers at hand.
 *
 * `scope` lists the customers; `anonymous` the anonymous ids linked to any of
 * them (all links of those ids are kept, so ownership by earliest link is
 * decided as in a full run).
 */
export function scopedReadFilters(database: string, scope: string, anonymous: string): string {
  const inScope = `customer_id IN ${database}.${scope}`;
  const linked = `anonymous_id IN ${database}.${anonymous}`;
  const filters: Record<string, string> = {
    orders: inScope,
    tickets: inScope,
    surveys: inScope,
    clicks: `${inScope} OR ${linked}`,
    identity_links: linked,
    customer_profiles: inScope,
    customer_scores_history: inScope,
    segment_changes: inScope,
  };
  return `{${Object.entries(filters).map(([table, filter]) => `'${database}.${table}': '${filter}'`).join(', ')}}`;
}
