// ui.js: small DOM helpers shared by the views: elements, labelled form
// controls, the message line, and how times, people and photos are shown.
import { t, lang } from './i18n.js';
import { photoUrl } from './api.js';

// h('button', {type: 'button', onclick: f}, 'text', child...): an element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let fieldSeq = 0;

// A labelled control: label text and the control; returns [wrapper, control].
export function field(labelKey, control) {
  const id = 'f' + ++fieldSeq;
  control.id = id;
  return [h('div', { class: 'field' }, h('label', { for: id }, t(labelKey)), control), control];
}

export function select(values, labelOf, current) {
  const s = h('select', {});
  for (const v of values) {
    const o = h('option', { value: v }, labelOf(v));
    if (v === current) o.selected = true;
    s.append(o);
  }
  return s;
}

// The message line: a refusal as the library says it, or a success.
export function say(text, kind) {
  const m = document.getElementById('message');
  m.textContent = text;
  m.className = kind || 'error';
  m.hidden = !text;
}

export function sayError(e) {
  const status = e.status ? ` (${e.status}${e.reason ? ', ' + e.reason : ''})` : '';
  say(t('refused') + ': ' + e.message + status, 'error');
}

export function when(ms) {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB');
}

// A device key named as the replica's server-signed facts name it.
export function person(people, key) {
  const p = people && people[key];
  if (!p) return key ? key.slice(0, 12) + '…' : '—';
  return `${p.name || p.login} (${p.login}, ${t('device')}: ${p.device || '—'})`;
}

function place(p) {
  if (!p.gps) return t('no_place');
  const lat = (p.gps.lat_e7 / 1e7).toFixed(5), lon = (p.gps.lon_e7 / 1e7).toFixed(5);
  return `${lat}, ${lon}` + (p.gps.source ? ` (${t('src_' + p.gps.source)})` : '');
}

// The photo's bytes into img, fetched with the session (api.js); a refusal shows as a missing image.
function show(img, sha) {
  img.dataset.sha = sha;
  photoUrl(sha).then((url) => {
    if (img.dataset.sha === sha) img.src = url;
  }, () => img.classList.add('failed'));
}

// Run load once el is near the screen: the queue's photos are fetched as they scroll into view.
const seen = 'IntersectionObserver' in window
  ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      const load = loads.get(e.target);
      loads.delete(e.target);
      if (load) load();
    }
  }, { rootMargin: '200px' })
  : null;
const loads = new WeakMap();

function whenSeen(el, load) {
  if (!seen) return load();
  loads.set(el, load);
  seen.observe(el);
}

// A photo as a thumbnail that opens full size in the viewer.
export function photo(p, what) {
  const meta = `${when(p.captured_ms)} (${t('src_' + (p.time_source || 'file'))}) · ${place(p)}`;
  if (!p.present)
    return h('figure', { class: 'photo missing' }, h('figcaption', {}, t('photo_missing'), ' ', meta));
  const img = h('img', { alt: `${what}: ${p.caption || p.sha256.slice(0, 12)}` });
  whenSeen(img, () => show(img, p.sha256));
  const open = h('button', { type: 'button', class: 'thumb', 'aria-label': t('photo_full') + ' ' + what,
    onclick: () => view(p, what, meta) }, img);
  return h('figure', { class: 'photo' }, open, h('figcaption', {}, p.caption ? p.caption + ' · ' : '', meta));
}

function view(p, what, meta) {
  const d = document.getElementById('viewer');
  document.getElementById('viewer-title').textContent = what;
  const img = document.getElementById('viewer-img');
  img.removeAttribute('src');
  show(img, p.sha256);
  img.alt = what;
  document.getElementById('viewer-meta').textContent = meta + ' · sha256 ' + p.sha256;
  d.showModal();
}

// The controls that move through a list shown size items a page: page at (from 0) of total items;
// go(p) shows page p.  Nothing when it fits one page.
export function pager(total, at, size, go) {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages < 2) return '';
  return h('nav', { class: 'pager', 'aria-label': t('pages') },
    h('button', { type: 'button', disabled: at === 0, onclick: () => go(at - 1) }, t('prev_page')),
    h('span', {}, t('page_of', at + 1, pages, total)),
    h('button', { type: 'button', disabled: at >= pages - 1, onclick: () => go(at + 1) }, t('next_page')));
}
