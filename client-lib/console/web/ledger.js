// ledger.js: the findings ledger (问题台账) view.  The filters are those of
// `spotcheck report ledger` (org unit and below, target, period, grade,
// status, kind of check, source, the day overdue is counted to); the rows
// come from the console a page at a time (GET /api/ledger), so a ledger of
// ten thousand findings draws as fast as one of ten; the export downloads
// the whole ledger as the command writes it (GET /api/ledger.csv, .xlsx).
// A filter the library refuses shows its message, which lists the values
// that are valid, and the form stays as it was typed.
import { t, lang } from './i18n.js';
import { get, download, ApiError } from './api.js';
import { h, field, select, say, sayError, pager } from './ui.js';

const PAGE = 50;
const FILTERS = ['org', 'target', 'period', 'grade', 'status', 'kind', 'source', 'as_of'];

// What the selects offer, read once (org units and targets change only with a sync, which resets it).
let choices = null;
export function resetLedgerChoices() {
  choices = null;
}

// The org units as a tree: each after its parent, the children of one by code, each with its depth.
function orgTree(units) {
  const codes = new Set(units.map((o) => o.code));
  const under = new Map();
  for (const o of units) {
    const up = o.parent && codes.has(o.parent) ? o.parent : '';
    under.set(up, [...(under.get(up) || []), o]);
  }
  const out = [];
  const walk = (code, depth) => {
    for (const o of (under.get(code) || []).sort((a, b) => a.code.localeCompare(b.code))) {
      out.push({ code: o.code, name: o.name, depth });
      walk(o.code, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

// The org units come from their list (GET /api/list?what=orgs: a few dozen entities), not the statistics.
async function loadChoices() {
  if (!choices) {
    const [names, targets, orgs] = await Promise.all([get('/api/ledger/filters'),
      get('/api/list', { what: 'targets' }), get('/api/list', { what: 'orgs' })]);
    choices = { names, targets: targets.items, orgs: orgTree(orgs.items) };
  }
  return choices;
}

// A label for a value of a select: the translation when there is one, else the name itself.
function named(prefix, v) {
  const l = t(prefix + v);
  return l === prefix + v ? v : l;
}

// The filters' controls, filled with what was asked last; returns the form and a reader of its values.
function filterForm(c, asked, apply) {
  const any = (labelOf) => (v) => (v === '' ? t('any') : labelOf(v));
  const orgs = ['', ...c.orgs.map((o) => o.code)];
  const orgName = (code) => { const o = c.orgs.find((x) => x.code === code); return '\u00a0\u00a0'.repeat(o.depth) + o.name; };
  const controls = {
    org: field('org', select(orgs, any(orgName), asked.org || '')),
    target: field('target', select(['', ...c.targets.map((x) => x.code)],
      any((code) => `${code} ${c.targets.find((x) => x.code === code).name}`), asked.target || '')),
    period: field('period', h('input', { type: 'text', value: asked.period || '', placeholder: '2026-12', 'aria-describedby': 'period-hint' })),
    grade: field('grade', select(['', ...c.names.grade], any((v) => named('grade_', v)), asked.grade || '')),
    status: field('status', select(['', ...c.names.finding_status], any((v) => named('status_', v)), asked.status || '')),
    kind: field('kind', select(['', ...c.names.kind], any((v) => named('kind_check_', v)), asked.kind || '')),
    source: field('source', select(['', ...c.names.source], any((v) => named('source_', v)), asked.source || '')),
    as_of: field('as_of', h('input', { type: 'date', value: asked.as_of || '' })),
  };
  const read = () => Object.fromEntries(FILTERS.map((k) => [k, controls[k][1].value.trim()]).filter(([, v]) => v));
  const form = h('form', { class: 'filters', 'aria-label': t('ledger_filters') },
    ...FILTERS.map((k) => controls[k][0]),
    h('p', { class: 'hint', id: 'period-hint' }, t('period') + ': ' + t('period_hint')),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, t('apply')),
      h('button', { type: 'button', onclick: () => apply({}) }, t('clear_filters'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply(read());
  });
  return form;
}

// Save a Blob under a name, as a download of the page.
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function exportLedger(ext, filters, rows) {
  say(t('exporting'), 'ok');
  try {
    const blob = await download('/api/ledger.' + ext, { ...filters, lang: lang() });
    const name = `ledger-findings${filters.period ? '-' + filters.period.replace(/[^0-9A-Za-z.-]/g, '') : ''}.${ext}`;
    save(blob, name);
    say(t('exported', name, rows), 'ok');
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    sayError(e);
  }
}

// The page of rows: the finding's id opens it; the op id is shortened (the export has it whole).
function table(page) {
  const last = page.headers.length - 1;
  const cell = (v, i, row) => {
    if (i === 0) return h('td', {}, h('a', { href: '#/finding/' + v, title: t('open_finding') + ' ' + v }, '…' + v.slice(-8)));
    if (i === last && v.length > 12) return h('td', { title: v }, v.slice(0, 12) + '…');
    return h('td', {}, v);
  };
  return h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': t('ledger_rows') },
    h('table', { class: 'ledger' },
      h('caption', {}, t('ledger')),
      h('thead', {}, h('tr', {}, page.headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, page.rows.map((r) => h('tr', {}, r.map((v, i) => cell(v, i, r)))))));
}

// ctx: { state, route } of the page (app.js): the filters asked and the page shown live in state.
export async function viewLedger(main, ctx) {
  const { state, route } = ctx;
  const asked = state.ledger || {};
  const at = state.pages.ledger || 0;
  const apply = (f) => { state.ledger = f; state.pages.ledger = 0; say(''); route().catch(sayError); };
  main.append(h('h2', {}, t('ledger')));
  const c = await loadChoices();
  const form = filterForm(c, asked, apply);
  main.append(form);
  let page;
  try {
    page = await get('/api/ledger', { ...asked, lang: lang(), offset: at * PAGE, limit: PAGE });
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    sayError(e);
    return;
  }
  const tot = page.totals;
  main.append(h('p', { class: 'meta', role: 'status' }, t('ledger_totals', tot.rows, tot.major, tot.open, tot.closed, tot.overdue, tot.photos)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => exportLedger('csv', asked, tot.rows) }, t('export_csv')),
      h('button', { type: 'button', onclick: () => exportLedger('xlsx', asked, tot.rows) }, t('export_xlsx'))));
  if (!tot.rows) {
    main.append(h('p', {}, t('ledger_empty')));
    return;
  }
  const go = (p) => { state.pages.ledger = p; route().catch(sayError); };
  main.append(pager(tot.rows, at, PAGE, go), table(page));
}
