// dashboard.js: the dashboard (统计看板) view: the statistics of the findings
// found in a window of days, by org unit (sc_report_stats), and two charts
// the console draws server-side with the period report's own chart code
// (GET /api/dashboard): 整改率 of an org unit's child units, and findings
// found against closed per day, week or month.  The charts come as SVG
// text, every name in them escaped by the console; they are parsed as XML
// and put in the page as they are.
import { t, lang } from './i18n.js';
import { get, ApiError } from './api.js';
import { h, field, select, say, sayError } from './ui.js';

const day = (d) => d.toLocaleDateString('sv-SE'); // YYYY-MM-DD, local
// The window shown first: the last twelve weeks, to today.
function defaults() {
  const to = new Date();
  const from = new Date(to.getTime() - 83 * 86400000);
  return { from: day(from), to: day(to), by: 'week' };
}

// An SVG chart as the console drew it, or a note when it is not well-formed.
function chart(text) {
  const doc = new DOMParser().parseFromString(text || '', 'image/svg+xml');
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== 'svg' || doc.getElementsByTagName('parsererror').length)
    return h('p', { class: 'error' }, t('chart_bad'));
  return h('figure', { class: 'chart' }, document.importNode(svg, true));
}

const rate = (r) => (r === null || r === undefined ? '—' : (r * 100).toFixed(1) + '%');

// The statistics by org unit, indented by depth, with their ranks among siblings.
function table(stats) {
  const cols = ['unit', 'checks_total', 'findings_total', 'major_total', 'closed_total', 'overdue_total',
    'rectification_rate', 'days_to_close', 'rank'];
  return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': t('stats_table') },
    h('table', { class: 'stats' },
      h('caption', {}, t('stats_table')),
      h('thead', {}, h('tr', {}, cols.map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, stats.groups.map((g) => h('tr', {},
        h('th', { scope: 'row', class: 'depth' + Math.min(g.depth, 6) }, g.name || g.code),
        h('td', {}, g.checks.total), h('td', {}, g.findings.total), h('td', {}, g.findings.major),
        h('td', {}, g.findings.closed), h('td', {}, g.findings.overdue),
        h('td', {}, rate(g.findings.rectification_rate)),
        h('td', {}, g.findings.mean_days_to_close ?? '—'),
        h('td', {}, g.rank ? `${g.rank}/${g.siblings}` : '—'))))));
}

function filterForm(asked, orgs, apply) {
  const orgName = (code) => { const o = orgs.find((x) => x.code === code); return o ? '\u00a0\u00a0'.repeat(o.depth) + (o.name || o.code) : code; };
  const c = {
    org: field('org_chart', select(orgs.map((o) => o.code), orgName, asked.org || (orgs[0] && orgs[0].code))),
    from: field('window_from', h('input', { type: 'date', value: asked.from, required: true })),
    to: field('window_to', h('input', { type: 'date', value: asked.to, required: true })),
    by: field('bucket', select(['day', 'week', 'month'], (b) => t('by_' + b), asked.by)),
    as_of: field('as_of', h('input', { type: 'date', value: asked.as_of || '' })),
  };
  const form = h('form', { class: 'filters', 'aria-label': t('ledger_filters') },
    ...Object.values(c).map(([wrap]) => wrap),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, t('apply'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply(Object.fromEntries(Object.entries(c).map(([k, [, el]]) => [k, el.value]).filter(([, v]) => v)));
  });
  return form;
}

// ctx: { state, route } of the page (app.js): the window asked lives in state.
export async function viewDashboard(main, ctx) {
  const { state, route } = ctx;
  const asked = state.dashboard || defaults();
  const apply = (f) => { state.dashboard = f; say(''); route().catch(sayError); };
  main.append(h('h2', {}, t('dashboard')));
  let d;
  try {
    d = await get('/api/dashboard', { ...asked, lang: lang() });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    sayError(e);
    // The form stays as typed, with the org units of the last good answer.
    main.append(filterForm(asked, state.dashboardOrgs || [], apply));
    return;
  }
  state.dashboardOrgs = d.stats.groups;
  main.append(filterForm({ ...asked, org: asked.org || (d.org && d.org.code) }, d.stats.groups, apply),
    h('p', { class: 'meta', role: 'status' }, t('window_of', asked.from, asked.to, d.stats.as_of)),
    h('div', { class: 'charts' }, chart(d.charts.rate), chart(d.charts.trend)),
    table(d.stats));
}
