/** Small, dependency-free HTML building: every value is escaped where it is written. */

export const escape = (value: unknown): string =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Text that is already HTML (built by these helpers). */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const raw = (text: string) => new Html(text);

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escape(value);
}

/** Numbers for people: thousands separated, at most `digits` decimals; a dash for nothing. */
export function num(value: unknown, digits = 0): string {
  if (value === null || value === undefined || value === '') return '–';
  const n = Number(value);
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : escape(value);
}

export const day = (value: unknown): string => (typeof value === 'string' && value.length >= 10 ? value.slice(0, 10) : '–');

export interface Column<R> {
  title: string;
  cell: (row: R) => unknown;
  /** A sort key of the page's `?sort=`; the header links to it. */
  sort?: string;
  numeric?: boolean;
}

export function table<R>(columns: Column<R>[], rows: R[], link?: (sort: string) => string): Html {
  const head = columns.map((c) => html`<th class="${c.numeric ? 'num' : ''}">${c.sort && link ? html`<a href="${link(c.sort)}">${c.title}</a>` : c.title}</th>`);
  const body = rows.map((r) => html`<tr>${columns.map((c) => html`<td class="${c.numeric ? 'num' : ''}">${c.cell(r)}</td>`)}</tr>`);
  return html`<table><thead><tr>${head}</tr></thead><tbody>${body.length > 0 ? body : html`<tr><td colspan="${columns.length}" class="empty">none</td></tr>`}</tbody></table>`;
}

/** A chart: an ECharts option rendered in the browser by /assets/charts.js. */
export const chart = (id: string, option: unknown, height = 280): Html =>
  html`<div class="chart" id="${id}" style="height:${height}px" data-option="${JSON.stringify(option)}"></div>`;

export const NAV = [
  ['/', 'Overview'],
  ['/at-risk', 'At risk & win-back'],
  ['/pipeline', 'Pipeline'],
] as const;

/** The page frame; `token` is carried on every link so a tokened URL keeps working as one navigates. */
export function page(title: string, body: Html, token: string | undefined): string {
  const q = tokenQuery(token);
  return `<!doctype html>${html`<html lang="en"><head><meta charset="utf-8"><title>${title} · crm</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css${q}">
<script src="/assets/echarts.min.js${q}" defer></script><script src="/assets/charts.js${q}" defer></script></head>
<body><header><strong>crm</strong><nav>${NAV.map(([href, name]) => html`<a href="${href}${q}">${name}</a>`)}</nav>
<form action="/customer" method="get"><input name="id" placeholder="customer id" aria-label="customer id">${token ? html`<input type="hidden" name="token" value="${token}">` : ''}<button>Open</button></form></header>
<main><h1>${title}</h1>${body}</main></body></html>`.text}`;
}

export const tokenQuery = (token: string | undefined, first = true): string => (token ? `${first ? '?' : '&'}token=${encodeURIComponent(token)}` : '');
