// app.js: the review console's page.  Views are chosen by the fragment
// (#/review, #/finding/ID, #/check/ID, #/overdue, #/plans, #/ledger,
// #/dashboard, #/audit); each reads the replica through the JSON API and
// renders it, and every button is one signed op made by the console with
// the device's key.  What the library refuses (a role that may not close,
// a finding another device closed meanwhile) is shown in the message line
// as the library says it, and the view is read again.
import { t, lang, setLang, applyStatic } from './i18n.js';
import { startSession, get, post, ApiError } from './api.js';
import { h, field, select, say, sayError, when, person, photo, pager } from './ui.js';
import { viewLedger, resetLedgerChoices } from './ledger.js';
import { viewDashboard } from './dashboard.js';

const views = ['review', 'overdue', 'plans', 'ledger', 'dashboard', 'audit'];
const state = { standing: null, pages: {} };

// ---- the bar: who, what waits, sync ----

// Who, and what waits (GET /api/standing: counted from indexes, whatever the replica holds).
async function refreshStanding() {
  const s = (state.standing = await get('/api/standing'));
  document.getElementById('who').textContent =
    `${s.name || s.login} · ${t('role_' + s.role)} · ${t('outbox')}: ${s.outbox} · ${t('photos_pending')}: ${s.photos_pending_upload}`;
}

// The sync of this console if there was one, else the last one the replica completed.
function syncText(st) {
  if (st.running) return `${t('syncing')}: ${t('phase_' + (st.phase || 'push'))} ${st.done}/${st.total || '?'}`;
  const before = state.standing && state.standing.last_sync_ms;
  if (!st.last) return before ? `${t('last_sync')}: ${when(before)}` : t('never_synced');
  if (st.last.ok) return `${t('last_sync')}: ${when(st.last.finished_ms)}`;
  return `${t('sync_failed')}: ${st.last.error.message}`;
}

function showSync(st) {
  document.getElementById('sync-state').textContent = syncText(st);
  document.getElementById('sync').disabled = st.running;
}

// The whole bar, its two answers asked together; a sync running (a reloaded page) is followed.
async function refreshBar() {
  const [, st] = await Promise.all([refreshStanding(), get('/api/sync')]);
  showSync(st);
  if (st.running) setTimeout(() => pollSync().catch(sayError), 400);
}

async function pollSync() {
  const st = await get('/api/sync');
  showSync(st);
  if (st.running) {
    setTimeout(() => pollSync().catch(sayError), 400);
    return;
  }
  if (st.last && !st.last.ok) say(`${t('sync_failed')}: ${st.last.error.message}`);
  else if (st.last && state.syncing) {
    const r = st.last.result;
    say(t('sync_done', r.pushed, r.accepted, r.rejected.length, r.pulled), 'ok');
  }
  state.syncing = false;
  resetLedgerChoices();
  await Promise.all([refreshStanding(), route()]);
}

async function startSync() {
  say('');
  try {
    await post('/api/sync', {});
    state.syncing = true;
    await pollSync();
  } catch (e) {
    sayError(e);
  }
}

// ---- actions ----

// Run one action, say what came of it, and read the view again.
async function act(path, body, done) {
  try {
    await post(path, body);
    say(done, 'ok');
  } catch (e) {
    sayError(e);
  }
  await Promise.all([refreshStanding().catch(() => {}), route()]);
}

// A small form asking for one text (a reason, a note) before an action.
function askText(labelKey, submitKey, required, onSubmit) {
  const [wrap, input] = field(labelKey, h('textarea', { rows: 2, required }));
  const form = h('form', { class: 'ask' }, wrap,
    h('button', { type: 'submit' }, t(submitKey)),
    h('button', { type: 'button', onclick: () => form.remove() }, t('cancel')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (required && !input.value.trim()) {
      say(t('reason_required'));
      input.focus();
      return;
    }
    onSubmit(input.value.trim());
  });
  setTimeout(() => input.focus(), 0);
  return form;
}

// ---- the review queue ----

// Before: what the finding's reporter attached; after: what came with the rectification.
function beforeAfter(f) {
  const before = [], after = [];
  for (const p of f.photos || []) {
    if (p.voided) continue;
    const op = (f.history || []).find((x) => x.op === p.op);
    const by = op ? op.author : null;
    (by && by === f.created_by ? before : after).push(p);
  }
  return { before, after };
}

function approveLabel(f) {
  return f.status === 'verified' ? t('approve_close') : f.grade === 'major' ? t('approve_accept') : t('approve_revisit');
}

function reviewCard(f) {
  const { before, after } = beforeAfter(f);
  const card = h('article', { class: 'card', 'aria-labelledby': 'h-' + f.id });
  const approve = () => {
    if (f.status === 'verified') return act('/api/close', { finding: f.id }, t('closed_ok'));
    return act('/api/revisit', { finding: f.id, result: 'rectified', acceptance: f.grade === 'major' }, t('revisit_ok'));
  };
  const sendBack = (ev) => {
    const box = ev.target.closest('article');
    box.append(askText('reason', 'send_back', true, (reason) =>
      f.status === 'verified'
        ? act('/api/reopen', { finding: f.id, reason }, t('sent_back_ok'))
        : act('/api/revisit', { finding: f.id, result: 'not_rectified', note: reason }, t('sent_back_ok'))));
  };
  card.append(
    h('h3', { id: 'h-' + f.id }, h('a', { href: '#/finding/' + f.id }, f.description)),
    h('p', { class: 'meta' }, `${t('status_' + f.status)} · ${t('grade_' + f.grade)} · ${f.target} · ${t('deadline')}: ${f.deadline || '—'}`,
      f.overdue ? h('strong', { class: 'overdue' }, ' ' + t('overdue')) : ''),
    h('div', { class: 'pair' },
      h('section', { 'aria-label': t('before') }, h('h4', {}, t('before')), before.length ? before.map((p) => photo(p, t('before'))) : h('p', {}, t('no_photos'))),
      h('section', { 'aria-label': t('after') }, h('h4', {}, t('after')), after.length ? after.map((p) => photo(p, t('after'))) : h('p', {}, t('no_photos')))),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'primary', onclick: approve }, approveLabel(f)),
      h('button', { type: 'button', onclick: sendBack }, t('send_back'))));
  return card;
}

// One page of a long list, and the controls that move through it (a replica may hold thousands).
function paged(items, size, key) {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const at = Math.min(state.pages[key] || 0, pages - 1);
  const go = (p) => { state.pages[key] = p; route().catch(sayError); };
  return { slice: items.slice(at * size, (at + 1) * size), controls: pager(items.length, at, size, go) };
}

const REVIEW_PAGE = 20;

// The queue comes from the console a page at a time (GET /api/queue), each finding whole: a
// queue of thousands is sent as the twenty cards the page draws, in one answer.
async function viewReview(main) {
  let at = state.pages.review || 0;
  let r = await get('/api/queue', { offset: at * REVIEW_PAGE, limit: REVIEW_PAGE });
  if (at > 0 && at * REVIEW_PAGE >= r.total) { // the last card of the last page was just handled
    at = state.pages.review = Math.max(0, Math.ceil(r.total / REVIEW_PAGE) - 1);
    r = await get('/api/queue', { offset: at * REVIEW_PAGE, limit: REVIEW_PAGE });
  }
  main.append(h('h2', {}, t('review')));
  if (!r.total) main.append(h('p', {}, t('queue_empty')));
  const go = (p) => { state.pages.review = p; route().catch(sayError); };
  main.append(pager(r.total, at, REVIEW_PAGE, go));
  for (const f of r.waiting) main.append(reviewCard(f));
  if (r.conflicts.length) {
    main.append(h('h2', {}, t('conflicts')));
    main.append(h('ul', {}, r.conflicts.map((c) => h('li', {},
      h('a', { href: `#/${c.type === 'inspection' ? 'check' : 'finding'}/${c.id}` }, c.description || `${t('type_' + c.type)} ${c.id.slice(0, 8)}…`),
      ': ', (c.conflicts || []).map((x) => `${t('field')} ${x.field}: ${x.values.join(' / ')}`).join('; ')))));
  }
}

// ---- one finding, one inspection ----

// The author's role as the replica knows it (the register's own ops have none).
function roleOf(people, x) {
  const p = people && people[x.author];
  if (p && p.server) return '—';
  return x.author_role ? t('role_' + x.author_role) : t('role_unknown');
}

function timeline(e) {
  const rows = (e.history || []).map((x) => h('tr', { class: x.valid ? '' : 'invalid' },
    h('td', {}, when(x.time_ms)),
    h('td', {}, t('kind_' + x.kind)),
    h('td', {}, person(e.people, x.author)),
    h('td', {}, roleOf(e.people, x)),
    h('td', {}, x.log_index === null ? t('not_logged') : h('a', { href: '#/audit/' + x.op, title: t('prove_this') }, t('logged_at', x.log_index))),
    h('td', {}, t('validity_' + x.validity) + (x.why ? ': ' + x.why : ''))));
  return h('table', { class: 'timeline' },
    h('caption', {}, t('timeline')),
    h('thead', {}, h('tr', {}, ['time', 'act', 'who', 'role', 'log', 'verification'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, rows));
}

function conflicts(e) {
  if (!e.conflicts || !e.conflicts.length) return [];
  return [h('h3', {}, t('conflicts')), ...e.conflicts.map((c) => h('div', { class: 'conflict' },
    h('p', {}, `${t('field')}: ${c.field}${c.item ? ' (' + c.item + ')' : ''}`),
    h('div', { class: 'actions' }, c.values.map((v) => h('button', { type: 'button',
      onclick: () => act('/api/resolve', { entity: e.id, field: c.field, value: String(v), item: c.item || undefined }, t('resolved_ok')) },
      t('keep') + ': ' + v)))))];
}

function escalations(f) {
  if (!f.escalations || !f.escalations.length) return [];
  return [h('h3', {}, t('escalations')), h('ul', {}, f.escalations.map((x) =>
    h('li', {}, `${t('step_' + x.step)} · ${x.level} · ${x.reason} · ${person(f.people, x.by)} · ${when(x.at_ms)}`)))];
}

async function viewFinding(main, id) {
  const f = await get('/api/show', { id });
  const g = f.governance || {};
  main.append(
    h('h2', {}, f.description),
    h('dl', { class: 'facts' },
      ...[['status', t('status_' + f.status)], ['grade', t('grade_' + f.grade)], ['target', f.target],
        ['responsible', f.responsible], ['deadline', f.deadline], ['reopen_count', f.reopen_count],
        ['signed_for', g.signed_for ? t('yes') : t('no')], ['inspection', f.check ? h('a', { href: '#/check/' + f.check }, f.check) : '—']]
        .flatMap(([k, v]) => [h('dt', {}, t(k)), h('dd', {}, v === null || v === undefined ? '—' : v)])),
    h('div', { class: 'actions' },
      g.notice && !g.signed_for ? h('button', { type: 'button', onclick: () => act('/api/sign-for', { finding: f.id }, t('signed_for_ok')) }, t('sign_for')) : '',
      h('button', { type: 'button', onclick: (ev) => ev.target.parentNode.after(askText('note', 'add_note', true, (text) => act('/api/note', { entity: f.id, text }, t('note_ok')))) }, t('add_note'))),
    h('h3', {}, t('photos')),
    h('div', { class: 'photos' }, (f.photos || []).map((p) => photo(p, t('photo')))),
    ...conflicts(f), ...escalations(f), timeline(f));
}

function sheet(c) {
  return (c.sections || []).map((s) => h('table', { class: 'sheet' },
    h('caption', {}, `${s.section}: ${s.points ?? '—'} / ${s.max}`),
    h('thead', {}, h('tr', {}, ['item', 'points', 'max'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, s.items.map((i) => h('tr', { class: i.scored ? '' : 'unscored' },
      h('td', {}, `${i.code} ${i.text}`), h('td', {}, i.points ?? '—'), h('td', {}, i.max))))));
}

async function viewCheck(main, id) {
  const c = await get('/api/show', { id });
  main.append(h('h2', {}, `${t('inspection')} ${c.target}`),
    h('p', { class: 'meta' }, `${t('status_' + c.status)} · ${t('score')}: ${c.score ?? '—'} / ${c.max ?? '—'}` +
      (c.passed === true ? ' · ' + t('passed') : c.passed === false ? ' · ' + t('failed') : '') + (c.vetoed ? ' · ' + t('vetoed') : '')),
    ...sheet(c), h('h3', {}, t('photos')), h('div', { class: 'photos' }, (c.photos || []).map((p) => photo(p, t('photo')))),
    ...conflicts(c), timeline(c));
}

// ---- overdue and escalation ----

function escalateForm(f) {
  const steps = ['reminder', 'public_notice', 'interview', 'yellow_card', 'accountability'];
  const [ws, step] = field('step', select(steps, (s) => t('step_' + s), f.suggested_step || 'reminder'));
  const [wl, level] = field('level', h('input', { type: 'text', value: 'county', required: true }));
  const [wr, reason] = field('reason', h('textarea', { rows: 2, required: true }));
  const form = h('form', { class: 'ask' }, ws, wl, wr, h('button', { type: 'submit' }, t('escalate')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('/api/escalate', { finding: f.id, step: step.value, level: level.value, reason: reason.value }, t('escalated_ok'));
  });
  return form;
}

async function viewOverdue(main) {
  const list = await get('/api/list', { what: 'findings', overdue: 1 });
  main.append(h('h2', {}, t('overdue_queue')));
  if (!list.items.length) main.append(h('p', {}, t('queue_empty')));
  const { slice, controls } = paged(list.items, 50, 'overdue');
  main.append(controls);
  for (const f of slice) {
    main.append(h('article', { class: 'card' },
      h('h3', {}, h('a', { href: '#/finding/' + f.id }, f.description)),
      h('p', { class: 'meta' }, `${t('deadline')}: ${f.deadline} · ${t('late_days', f.late_days ?? f.overdue_days ?? 0)} · ` +
        `${t('escalated_step')}: ${f.escalated_step ? t('step_' + f.escalated_step) : '—'} · ${t('suggested_step')}: ${f.suggested_step ? t('step_' + f.suggested_step) : '—'}`),
      h('details', {}, h('summary', {}, t('escalate')), escalateForm(f))));
  }
}

// ---- plans ----

async function viewPlans(main) {
  const [plans, targets, templates] = await Promise.all([get('/api/list', { what: 'assignments' }),
    get('/api/list', { what: 'targets' }), get('/api/list', { what: 'templates' })]);
  main.append(h('h2', {}, t('plans')));
  const [wt, target] = field('target', select(targets.items.map((x) => x.code), (c) => `${c} ${targets.items.find((x) => x.code === c).name}`));
  const [wi, who] = field('inspectors', h('input', { type: 'text', required: true, placeholder: 'inspector, inspector2' }));
  const [wk, kind] = field('kind', select(['supervisory', 'spot'], (k) => t('kind_check_' + k)));
  const [wd, disc] = field('disclosure', select(['open', 'unannounced', 'experiential'], (d) => t('disc_' + d)));
  const [wdue, due] = field('due', h('input', { type: 'date' }));
  const [wtp, tpl] = field('template', select(['', ...templates.items.map((x) => x.code)], (c) => c || '—'));
  const form = h('form', { class: 'plan' }, wt, wi, wk, wd, wdue, wtp, h('p', { class: 'hint' }, t('unannounced_hint')),
    h('button', { type: 'submit', class: 'primary' }, t('assign')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('/api/assign', { target: target.value, inspectors: who.value.split(/[,\s]+/).filter(Boolean), kind: kind.value,
      disclosure: disc.value, due: due.value || undefined, template: tpl.value || undefined }, t('assigned_ok'));
  });
  main.append(form, h('table', {}, h('caption', {}, t('plans')),
    h('thead', {}, h('tr', {}, ['target', 'disclosure', 'due', 'inspectors'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, plans.items.map((a) => h('tr', {}, h('td', {}, a.target), h('td', {}, t('disc_' + a.disclosure)),
      h('td', {}, a.due || '—'), h('td', {}, (a.inspectors || []).join(', ')))))));
}

// ---- audit ----

// One record's inclusion proof, fetched from syncd and checked here, in plain words.
async function proveOne(main, op) {
  main.append(h('h3', {}, t('prove_title')));
  try {
    const p = await get('/api/prove', { op });
    main.append(h('p', { class: 'ok', role: 'status' },
      t('prove_ok', t('kind_' + p.kind), p.log_index, p.proof_hashes, p.checkpoint.size, when(p.checkpoint.time_ms))),
      h('p', { class: 'hint' }, `op ${p.op} · root ${p.checkpoint.root}`),
      h('p', {}, h('a', { href: '#/record/' + p.entity }, t('prove_record'))));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    main.append(h('p', { class: 'error', role: 'status' }, t('prove_bad') + ' ' + e.message));
  }
}

// The whole replica's verification (every signature, checkpoint and receipt, every state
// refolded) takes seconds on a big replica, so it runs when asked, and its last result stays.
function verification(v) {
  return [h('p', { class: v.ok ? 'ok' : 'error', role: 'status' },
    (v.ok ? t('verify_ok', v.ops, v.checkpoints, v.receipts) : t('verify_bad')) + ' ' + t('verified_at', when(v.at))),
  h('dl', { class: 'facts' }, ...[['ops', v.ops], ['entities', v.entities], ['checkpoints', v.checkpoints], ['receipts', v.receipts],
    ['unproven', v.unproven]].flatMap(([k, x]) => [h('dt', {}, t(k)), h('dd', {}, x)])),
  v.errors && v.errors.length ? h('ul', { class: 'error' }, v.errors.map((e) => h('li', {}, e))) : ''];
}

async function verifyNow(box, button) {
  button.disabled = true;
  box.replaceChildren(h('p', { role: 'status' }, t('verifying')));
  try {
    state.verified = { ...(await get('/api/verify')), at: Date.now() };
    box.replaceChildren(...verification(state.verified));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    box.replaceChildren();
    sayError(e);
  }
  button.disabled = false;
}

// The checkpoint and the replica's hash are sc_client_status's (which hashes every entity): asked here only.
async function viewAudit(main, op) {
  main.append(h('h2', {}, t('audit')));
  const [s] = await Promise.all([get('/api/status'), op ? proveOne(main, op) : null]);
  const box = h('div', { class: 'verification' }, state.verified ? verification(state.verified) : h('p', { class: 'hint' }, t('not_verified')));
  const button = h('button', { type: 'button', class: 'primary', onclick: () => verifyNow(box, button).catch(sayError) }, t('verify_now'));
  main.append(h('dl', { class: 'facts' }, ...[
    ['checkpoint', s.checkpoint ? `${s.checkpoint.size} · ${s.checkpoint.root.slice(0, 16)}… · ${when(s.checkpoint.time_ms)}` : '—'],
    ['replica_hash', s.replica_hash]].flatMap(([k, x]) => [h('dt', {}, t(k)), h('dd', {}, x)])),
  h('div', { class: 'actions' }, button), box);
}

// ---- routing ----

function nav() {
  const n = document.getElementById('nav');
  const label = (v) => t(v === 'overdue' ? 'overdue_queue' : v);
  n.replaceChildren(...views.map((v) => h('a', { href: '#/' + v, 'aria-current': location.hash === '#/' + v ? 'page' : undefined }, label(v))));
}

async function route() {
  const main = document.getElementById('view');
  const [, view, id] = (location.hash || '#/review').split('/');
  nav();
  const fresh = h('main', { id: 'view', tabindex: '-1' });
  try {
    if (view === 'record') location.replace('#/' + ((await get('/api/show', { id })).type === 'inspection' ? 'check' : 'finding') + '/' + id);
    else if (view === 'finding') await viewFinding(fresh, id);
    else if (view === 'check') await viewCheck(fresh, id);
    else if (view === 'overdue') await viewOverdue(fresh);
    else if (view === 'plans') await viewPlans(fresh);
    else if (view === 'ledger') await viewLedger(fresh, { state, route });
    else if (view === 'dashboard') await viewDashboard(fresh, { state, route });
    else if (view === 'audit') await viewAudit(fresh, id);
    else await viewReview(fresh);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    sayError(e);
  }
  main.replaceWith(fresh);
  // Which view was drawn last, and how many times views were drawn: what tests and benchmarks wait for.
  document.body.dataset.view = view || 'review';
  document.body.dataset.rendered = String((state.renders = (state.renders || 0) + 1));
}

async function main() {
  applyStatic();
  document.getElementById('lang').addEventListener('click', () => {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    applyStatic();
    Promise.all([refreshBar(), route()]).catch(sayError);
  });
  document.getElementById('sync').addEventListener('click', startSync);
  document.getElementById('viewer-close').addEventListener('click', () => document.getElementById('viewer').close());
  window.addEventListener('hashchange', () => { say(''); route().catch(sayError); });
  try {
    await startSession();
    // The bar and the first view are asked for together, once each.
    await Promise.all([refreshBar(), route()]);
  } catch (e) {
    sayError(e);
  }
}

main();
