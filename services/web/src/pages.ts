import type { ClickHouseClient } from '@crm/clickhouse';
import { chart, day, html, num, page, table, tokenQuery, type Html } from './html.js';
import * as q from './queries.js';
import { AT_RISK_SORTS, type AtRiskSort, type Row } from './queries.js';
import type { DeadLetterSummary } from './dead-letters.js';
import type { TopicLag } from './lag.js';

/** The pyramid from the top (docs/METRICS.md value_tier). */
export const TIERS = ['platinum', 'gold', 'iron', 'lead'] as const;

const link = (path: string, token: string | undefined) => `${path}${tokenQuery(token, !path.includes('?'))}`;
const customerLink = (id: unknown, token: string | undefined) => html`<a href="${link(`/customer?id=${encodeURIComponent(String(id))}`, token)}">${id}</a>`;
const kpi = (label: string, value: string) => html`<div class="kpi"><div class="v">${value}</div><div class="l">${label}</div></div>`;
const empty = (why: string) => html`<p class="empty">${why}</p>`;
const section = (title: string, ...content: Html[]) => html`<section><h2>${title}</h2>${content}</section>`;

const line = (months: string[], series: { name: string; data: unknown[] }[], unit = '') => ({
  tooltip: { trigger: 'axis' },
  legend: {},
  xAxis: { type: 'category', data: months },
  yAxis: { type: 'value', axisLabel: { formatter: `{value}${unit}` } },
  // Symbols always: a customer scored once has a one-point history, which a bare line does not draw.
  series: series.map((s) => ({ ...s, type: 'line', connectNulls: true, showSymbol: true, symbolSize: 6 })),
});

export async function overview(ch: ClickHouseClient, token: string | undefined): Promise<string> {
  const [[totals], [share], equity, pyramid, lifecycle, grid, churn, cohorts, csat] = await Promise.all([
    q.totals(ch), q.topFifthShare(ch), q.equityTrend(ch), q.pyramid(ch), q.lifecycleMix(ch), q.rfmGrid(ch), q.churnMonthly(ch), q.cohorts(ch), q.satisfaction(ch),
  ]);
  const tiers = TIERS.map((tier) => pyramid.find((p) => p.tier === tier) ?? { tier, customers: 0, revenue_total: 0, clv_12m: 0 });
  const equityUp = [...equity].reverse();
  const churnUp = [...churn].reverse();
  const csatUp = [...csat].reverse();
  const cohortMonths = [...new Set(cohorts.map((c) => String(c.cohort)))];
  const offsets = [...new Set(cohorts.map((c) => Number(c.months_since_first)))].sort((a, b) => a - b);
  const segmentOf = (r: number, f: number) => grid.find((g) => Number(g.r_score) === r && Number(g.f_score) === f);
  const body = html`
<div class="kpis">${[
    kpi('customers', num(totals?.customers)),
    kpi('buyers', num(totals?.buyers)),
    kpi('net revenue', num(totals?.net_revenue, 2)),
    kpi('customer equity (Σ clv_12m)', num(totals?.customer_equity, 0)),
    kpi('revenue from the top 20 % of buyers', share?.top20_share_pct == null ? '–' : `${num(share.top20_share_pct, 1)} %`),
    kpi('scored as of', day(totals?.as_of)),
  ]}</div>
<p class="note">${share?.computed_at == null
    ? 'Churn and retention, cohorts, satisfaction and the top-20 % share appear after the first full scoring run.'
    : `Churn and retention, cohorts, satisfaction and the top-20 % share as of the last full scoring run (${String(share.computed_at).slice(0, 16)} UTC); the rest is current.`}</p>
<div class="grid">
${section('Customer pyramid', chart('pyramid', {
    tooltip: {},
    series: [{ type: 'funnel', sort: 'ascending', gap: 2, label: { formatter: '{b}: {c}' }, data: tiers.map((t) => ({ name: t.tier, value: Number(t.customers) })) }],
  }), table<Row>([
    { title: 'tier', cell: (t) => html`<span class="tier">${t.tier}</span>` },
    { title: 'customers', cell: (t) => num(t.customers), numeric: true },
    { title: 'revenue', cell: (t) => num(t.revenue_total, 0), numeric: true },
    { title: 'Σ clv_12m', cell: (t) => num(t.clv_12m, 0), numeric: true },
  ], tiers))}
${section('Lifecycle mix', chart('lifecycle', {
    tooltip: {},
    series: [{ type: 'pie', radius: ['40%', '70%'], label: { formatter: '{b}: {c}', minMargin: 6 }, data: lifecycle.map((l) => ({ name: l.stage, value: Number(l.customers) })) }],
  }))}
${section('RFM grid (customers per recency × frequency score)', chart('rfm', {
    tooltip: {},
    xAxis: { type: 'category', name: 'F', data: ['1', '2', '3', '4', '5'] },
    yAxis: { type: 'category', name: 'R', data: ['1', '2', '3', '4', '5'] },
    visualMap: { min: 0, max: Math.max(1, ...grid.map((g) => Number(g.customers))), orient: 'horizontal', left: 'center', bottom: 0, calculable: true },
    grid: { bottom: 70 },
    series: [{ type: 'heatmap', label: { show: true }, data: grid.map((g) => [Number(g.f_score) - 1, Number(g.r_score) - 1, Number(g.customers)]) }],
  }, 320), html`<p class="segments">${[5, 4, 3, 2, 1].map((r) => html`<span>R${r}: ${[...new Set([1, 2, 3, 4, 5].map((f) => segmentOf(r, f)?.rfm_segment).filter(Boolean))].join(', ')}</span> `)}</p>`)}
${section('Customer equity (Σ clv_12m) by scoring run', chart('equity', line(runLabels(equityUp.map((e) => e.as_of)), [{ name: 'customer equity', data: equityUp.map((e) => e.customer_equity) }])))}
${section('Churn and retention by month', churnUp.some((c) => c.churn_rate_pct !== null) ? chart('churn', line(churnUp.map((c) => String(c.month).slice(0, 7)), [
    { name: 'churn %', data: churnUp.map((c) => c.churn_rate_pct) },
    { name: 'retention %', data: churnUp.map((c) => c.retention_rate_pct) },
  ], ' %')) : empty('No complete month with active customers at its start yet: a month counts once it has ended and the months before it had scoring runs.'))}
${section('Acquisition-cohort retention (% of the cohort buying, by months since first purchase)', chart('cohorts', {
    tooltip: {},
    xAxis: { type: 'category', name: 'months since the first purchase', nameLocation: 'middle', nameGap: 28, data: offsets.map(String) },
    yAxis: { type: 'category', data: cohortMonths.map((m) => m.slice(0, 7)) },
    visualMap: { min: 0, max: 100, orient: 'horizontal', left: 'center', bottom: 0, text: ['100 %', '0 %'] },
    grid: { bottom: 80, left: 80 },
    series: [{ type: 'heatmap', label: { show: true, fontSize: 9 }, data: cohorts.map((c) => [offsets.indexOf(Number(c.months_since_first)), cohortMonths.indexOf(String(c.cohort)), c.retention_pct]) }],
  }, 360))}
${section('CSAT, NPS and CSI by month', csat.length === 0 ? empty('No survey answers yet (crm.surveys.v1).') : chart('satisfaction', {
    ...line(csatUp.map((c) => String(c.month).slice(0, 7)), [
      { name: 'CSAT satisfied %', data: csatUp.map((c) => c.csat_satisfied_pct) },
      { name: 'NPS', data: csatUp.map((c) => c.nps) },
    ]),
  }), csat.length === 0 ? html`` : table<Row>([
    { title: 'month', cell: (c) => String(c.month).slice(0, 7) },
    { title: 'CSAT %', cell: (c) => num(c.csat_satisfied_pct, 1), numeric: true },
    { title: 'NPS', cell: (c) => num(c.nps, 1), numeric: true },
    { title: 'CSI (csat)', cell: (c) => num(c.csat_csi, 3), numeric: true },
    { title: 'CSI (nps)', cell: (c) => num(c.nps_csi, 3), numeric: true },
  ], csat.slice(0, 6)))}
</div>`;
  return page('Overview', body, token);
}

export const AT_RISK_PAGE = 50;

export async function atRiskPage(ch: ClickHouseClient, token: string | undefined, query: { sort?: string; order?: string; page?: string }): Promise<string> {
  const sort: AtRiskSort = query.sort !== undefined && Object.hasOwn(AT_RISK_SORTS, query.sort) ? (query.sort as AtRiskSort) : 'clv';
  const ascending = query.order === 'asc';
  const pageNo = Math.max(0, Math.floor(Number(query.page ?? 0)) || 0);
  const [risky, churned, byTier] = await Promise.all([
    q.atRisk(ch, sort, !ascending, AT_RISK_PAGE + 1, pageNo * AT_RISK_PAGE),
    q.churnedByValue(ch, 50),
    q.churnedByTier(ch),
  ]);
  const sortLink = (s: string) => link(`/at-risk?sort=${s}&order=${s === sort && !ascending ? 'asc' : 'desc'}`, token);
  const pager = (n: number, label: string) => html`<a href="${link(`/at-risk?sort=${sort}&order=${ascending ? 'asc' : 'desc'}&page=${n}`, token)}">${label}</a>`;
  const body = html`
${section('Valuable customers at risk', html`<p>Sorted by ${sort} ${ascending ? '↑' : '↓'}; click a heading to sort.</p>`, table<Row>([
    { title: 'customer', cell: (r) => customerLink(r.customer_id, token) },
    { title: 'tier', cell: (r) => r.value_tier },
    { title: 'drivers', cell: (r) => html`${(r.drivers as string[]).map((d) => html`<span class="driver">${d}</span> `)}` },
    { title: 'CLV 12m', cell: (r) => num(r.clv_12m, 2), sort: 'clv', numeric: true },
    { title: 'churn probability', cell: (r) => num(r.churn_probability, 3), sort: 'churn', numeric: true },
    { title: 'last purchase', cell: (r) => day(r.last_purchase_at), sort: 'last_purchase' },
    { title: 'at risk since', cell: (r) => day(r.since), sort: 'since' },
  ], risky.slice(0, AT_RISK_PAGE), sortLink), html`<p class="pager">${pageNo > 0 ? pager(pageNo - 1, '← previous') : ''} ${risky.length > AT_RISK_PAGE ? pager(pageNo + 1, 'next →') : ''}</p>`)}
${section('Churned, by value (win-back)', html`<p>A lost platinum or gold customer is worth a personal offer; lead and iron ones a campaign.</p>`,
    table<Row>([
      { title: 'tier', cell: (r) => r.tier },
      { title: 'churned customers', cell: (r) => num(r.customers), numeric: true },
      { title: 'their revenue', cell: (r) => num(r.revenue_total, 0), numeric: true },
    ], byTier),
    table<Row>([
      { title: 'customer', cell: (r) => customerLink(r.customer_id, token) },
      { title: 'tier', cell: (r) => r.value_tier },
      { title: 'revenue', cell: (r) => num(r.revenue_total, 2), numeric: true },
      { title: 'purchases', cell: (r) => num(r.purchases_total), numeric: true },
      { title: 'CLV 12m', cell: (r) => num(r.clv_12m, 2), numeric: true },
      { title: 'last purchase', cell: (r) => day(r.last_purchase_at) },
    ], churned))}`;
  return page('At risk & win-back', body, token);
}

/** undefined: no such customer. */
export async function customerPage(ch: ClickHouseClient, token: string | undefined, id: string): Promise<string | undefined> {
  const [[found], [risk], history, orders, tickets, surveys, events] = await Promise.all([
    q.profile(ch, id), q.riskState(ch, id), q.scoreHistory(ch, id), q.recentOrders(ch, id), q.recentTickets(ch, id), q.recentSurveys(ch, id), q.publishedEvents(ch, id),
  ]);
  if (found === undefined) return undefined;
  const up = [...history].reverse();
  const body = html`
<div class="kpis">${[
    kpi('RFM segment', String(found.rfm_segment)),
    kpi('lifecycle', String(found.lifecycle_stage)),
    kpi('tier', String(found.value_tier ?? '–')),
    kpi('risk', risk === undefined ? 'not at risk' : `at risk: ${(risk.drivers as string[]).join(', ')}`),
    kpi('p_alive', num(found.p_alive, 3)),
    kpi('CLV 12m', num(found.clv_12m, 2)),
    kpi('revenue', num(found.revenue_total, 2)),
    kpi('purchases', num(found.purchases_total)),
  ]}</div>
<div class="grid">
${section('Profile', table<[string, unknown]>([{ title: 'field', cell: (r) => r[0] }, { title: 'value', cell: (r) => profileValue(r[1]) }],
    Object.entries(found).filter(([k]) => !['customer_id'].includes(k))))}
${section('Score history', chart('history', {
    ...line(runLabels(up.map((h) => h.as_of)), [{ name: 'p_alive', data: up.map((h) => h.p_alive) }, { name: 'churn probability', data: up.map((h) => h.churn_probability) }]),
  }), table<Row>([
    { title: 'as of', cell: (h) => String(h.as_of).slice(0, 16) },
    { title: 'segment', cell: (h) => h.rfm_segment },
    { title: 'lifecycle', cell: (h) => h.lifecycle_stage },
    { title: 'tier', cell: (h) => h.value_tier ?? '–' },
    { title: 'p_alive', cell: (h) => num(h.p_alive, 3), numeric: true },
  ], history.slice(0, 12)))}
${section('Recent orders', table<Row>([
    { title: 'order', cell: (o) => o.order_id }, { title: 'placed', cell: (o) => day(o.placed_at) }, { title: 'status', cell: (o) => o.status },
    { title: 'total', cell: (o) => `${num(o.total, 2)} ${String(o.currency)}`, numeric: true }, { title: 'refunded', cell: (o) => num(o.refunded_amount, 2), numeric: true },
  ], orders))}
${section('Tickets', table<Row>([
    { title: 'ticket', cell: (t) => t.ticket_id }, { title: 'opened', cell: (t) => day(t.opened_at) }, { title: 'status', cell: (t) => t.status },
    { title: 'category', cell: (t) => t.category }, { title: 'priority', cell: (t) => t.priority },
  ], tickets))}
${section('Surveys', table<Row>([
    { title: 'response', cell: (s) => s.response_id }, { title: 'answered', cell: (s) => day(s.answered_at) }, { title: 'kind', cell: (s) => s.kind },
    { title: 'score', cell: (s) => `${String(s.score)} / ${String(s.scale_max)}`, numeric: true },
  ], surveys))}
${section('Published events', table<Row>([
    { title: 'as of', cell: (e) => day(e.as_of) }, { title: 'type', cell: (e) => e.segment_type }, { title: 'from', cell: (e) => e.from ?? '–' },
    { title: 'to', cell: (e) => e.to }, { title: 'drivers', cell: (e) => (e.drivers as string[]).join(', ') },
  ], events))}
</div>`;
  return page(`Customer ${id}`, body, token);
}

export async function pipelinePage(ch: ClickHouseClient, token: string | undefined, lag: TopicLag[] | undefined, deadLetters: DeadLetterSummary | undefined): Promise<string> {
  const [[run], fits, fresh] = await Promise.all([q.lastFullRun(ch), q.recentFits(ch), q.freshness(ch)]);
  const paramsWithErrors = (f: Row) => {
    const params = f.params as Record<string, number>;
    const errors = f.standard_errors as Record<string, number>;
    return Object.keys(params).map((k) => `${k} = ${num(params[k], 4)} ± ${num(errors[k], 4)}`).join('; ');
  };
  const body = html`
${section('Consumer lag (ingest, per input topic)', lag === undefined ? html`<p class="bad">Kafka did not answer; lag unknown.</p>` : table<TopicLag>([
    { title: 'topic', cell: (l) => l.topic }, { title: 'partitions', cell: (l) => l.partitions, numeric: true },
    { title: 'messages behind', cell: (l) => (l.lag === null ? 'nothing committed yet' : num(l.lag)), numeric: true },
  ], lag))}
${section('Freshness', table<Row>([
    { title: 'output', cell: (f) => f.output },
    { title: 'newest row', cell: (f) => (Number(f.age_seconds ?? -1) < 0 || f.age_seconds === null ? '–' : String(f.newest)) },
    { title: 'age', cell: (f) => (f.age_seconds === null ? 'empty' : age(Number(f.age_seconds))), numeric: true },
  ], fresh))}
${section('Last full scoring run', run === undefined ? html`<p>No full run yet.</p>` : table<Row>([
    { title: 'as of', cell: (r) => r.as_of }, { title: 'buyers', cell: (r) => num(r.customers), numeric: true }, { title: 'baseline', cell: (r) => String(r.baseline) },
    { title: 'finished', cell: (r) => r.finished_at }, { title: 'MBG/NBD fit of', cell: (r) => r.mbgnbd_fit_as_of ?? '–' }, { title: 'Gamma-Gamma fit of', cell: (r) => r.gamma_gamma_fit_as_of ?? '–' },
  ], [run]))}
${section('Model fits (parameter ± standard error)', table<Row>([
    { title: 'fitted', cell: (f) => f.fitted_at }, { title: 'model', cell: (f) => f.model }, { title: 'converged', cell: (f) => (f.converged ? 'yes' : html`<span class="bad">no ${f.error}</span>`) },
    { title: 'parameters', cell: paramsWithErrors }, { title: 'log-likelihood', cell: (f) => num(f.log_likelihood, 1), numeric: true },
    { title: 'customers', cell: (f) => num(f.customers), numeric: true },
  ], fits))}
${section('Dead letters by reason', deadLetterSection(deadLetters))}`;
  return page('Pipeline', body, token);
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

/** Counts and recent examples: code, field, topic, time and size only (never a key or payload). */
function deadLetterSection(summary: DeadLetterSummary | undefined): Html {
  return html`<div id="dead-letters">${deadLetterBody(summary)}</div>`;
}

function deadLetterBody(summary: DeadLetterSummary | undefined): Html {
  if (summary === undefined) return html`<p class="bad">The dead-letter topic is not read yet (Kafka not reachable); counts unknown.</p>`;
  if (summary.letters === 0) return html`<p>No dead letters: every event so far was accepted.</p>`;
  return html`<p>${num(summary.letters)} letters on the dead-letter topic. Inspect with <code>crm tail</code>, re-inject with <code>crm dlq replay</code> once fixed.</p>
${table<DeadLetterSummary['byReason'][number]>([
    { title: 'source topic', cell: (r) => r.topic }, { title: 'reason', cell: (r) => html`<code>${r.reason}</code>` },
    { title: 'letters', cell: (r) => num(r.letters), numeric: true }, { title: 'newest', cell: (r) => when(r.lastAt) },
  ], summary.byReason)}
<h3>Most recent</h3>
${table<DeadLetterSummary['recent'][number]>([
    { title: 'failed at', cell: (r) => when(r.failedAt) }, { title: 'source topic', cell: (r) => r.topic },
    { title: 'reason', cell: (r) => html`<code>${r.reason}</code>` }, { title: 'field', cell: (r) => r.path || '–' },
    { title: 'size', cell: (r) => `${num(r.bytes)} B`, numeric: true },
  ], summary.recent)}`;
}

/** An ISO instant as 'YYYY-MM-DD HH:MM:SS UTC'. */
const when = (iso: string) => (iso === '' ? '–' : `${iso.slice(0, 19).replace('T', ' ')} UTC`);

/** A profile field for people: fractions to four decimals (p_alive 0.1746, not 0.1745678707069427), a dash for nothing. */
const profileValue = (value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? num(value, 4) : (value ?? '–'));

/** Runs' instants as axis labels: the day, or day and time where several runs share a day. */
function runLabels(instants: unknown[]): string[] {
  const days = instants.map(day);
  return new Set(days).size === days.length ? days : instants.map((t) => String(t).slice(0, 16));
}
