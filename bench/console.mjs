// console.mjs: how long the review console takes to draw each view over a
// big replica, in Debian's chromium (playwright-core from tests/browser).
//   node bench/console.mjs URL_WITH_TOKEN [CONSOLE_PID]
// URL is what `spotcheck console --json` printed; with the console's PID,
// also the CPU time its main answers cost it (from /proc).  Prints bench/bench.h's
// lines, "key value unit method": for each view the median of 5 draws, from
// the moment the view is asked for (its fragment set) to the frame after it
// was put in the page, with every API answer it needed; and the first view
// from the start of the page load, with where its time went (the modules
// loaded, the session exchanged, the bar's and the queue's answers, from
// chromium's resource timing); and each view's slowest draw.  Each view is
// asked for coming from another, so its data is read again (the ledger's
// menus of org units and targets are read once, at its first draw, which
// the slowest figure shows).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const url = process.argv[2];
const pid = process.argv[3];
if (!url) {
  console.error('usage: node bench/console.mjs URL_WITH_TOKEN [CONSOLE_PID]');
  process.exit(2);
}

// The console's CPU time (user and system, ms) from /proc: what its answers cost whatever else
// the machine runs (the clock of the views counts the waits for a core too).
function cpuMs(p) {
  const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in ticks of 1/100 s
}

// The CPU each view's main answers cost the console, the mean of ROUNDS asks of each.
async function cpuPerAnswer(page, p, of) {
  const day = (d) => d.toISOString().slice(0, 10);
  const to = new Date(), from = new Date(to.getTime() - 83 * 86400000);
  const answers = { standing: '/api/standing', status: '/api/status', conflicts: '/api/conflicts',
    orgs: '/api/list?what=orgs', queue: '/api/queue?limit=20', ledger: '/api/ledger?limit=50',
    dashboard: `/api/dashboard?from=${day(from)}&to=${day(to)}&by=week`, stats: '/api/stats?by=org',
    overdue: '/api/list?what=findings&overdue=1' };
  for (const [k, path] of Object.entries(answers)) {
    const before = cpuMs(p);
    for (let r = 0; r < ROUNDS; r++) await page.evaluate(async (q) => (await fetch(q, { headers: { 'X-Spotcheck-Session': localStorage.getItem('spotcheck-console') } })).text(), path);
    emit(`console_cpu_${k}`, (cpuMs(p) - before) / ROUNDS, 'ms', `CPU the console spends on ${path}, mean of ${ROUNDS}, ${of}`);
  }
}
const ROUNDS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const emit = (key, value, unit, desc) => console.log(`${key}\t${value.toFixed(2)}\t${unit}\t${desc}`);

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1024, height: 768 } })).newPage();
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.rendered === '1', null, { timeout: 600000 });
  const load = await page.evaluate(() => performance.now());
  // Where the page load's time went: when each part ended, from the start of the navigation.
  const parts = await page.evaluate(() => {
    const end = (p) => Math.max(0, ...performance.getEntriesByType('resource')
      .filter((e) => new URL(e.name).pathname === p).map((e) => e.responseEnd));
    return { modules: performance.getEntriesByType('navigation')[0].domContentLoadedEventStart,
      session: end('/api/session'), standing: end('/api/standing'), queue: end('/api/queue') };
  });
  const facts = await page.evaluate(async () => {
    // As the page asks: with the session it keeps in its origin's storage (api.js).
    const ask = async (q) => (await fetch(q, { headers: { 'X-Spotcheck-Session': localStorage.getItem('spotcheck-console') } })).json();
    const list = await ask('/api/list?what=findings');
    const review = await ask('/api/review');
    const checks = await ask('/api/list?what=checks');
    return { findings: list.items.length, waiting: review.awaiting_revisit.length + review.awaiting_closure.length,
      overdue: review.overdue.length, one: list.items.length ? list.items[0].id : null,
      check: checks.items.length ? checks.items[0].id : null };
  });
  const of = `over a replica of ${facts.findings} findings (${facts.waiting} awaiting review, ${facts.overdue} overdue)`;
  emit('console_load', load, 'ms', `page load to the review queue drawn, ${of}`);
  // The page opened again in the running browser, as a supervisor who keeps the browser open
  // does each time: a new navigation each round, the session kept.  The first load above
  // is also the browser's first page (its fonts, its compiler, its caches cold).
  const reloads = [];
  for (let r = 0; r < ROUNDS; r++) {
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.rendered === '1', null, { timeout: 600000 });
    reloads.push(await page.evaluate(() => performance.now()));
  }
  emit('console_load_warm', median(reloads), 'ms', `page load to the review queue drawn in a running browser (the page reloaded), median of ${ROUNDS}, ${of}`);
  emit('console_load_warm_max', Math.max(...reloads), 'ms', `the same, slowest of ${ROUNDS}, ${of}`);
  for (const [k, what] of [['modules', 'the page and its modules loaded (DOMContentLoaded)'],
    ['session', 'the session exchanged'], ['standing', "the bar's standing answered"],
    ['queue', "the review queue's first page answered"]])
    emit(`console_load_${k}`, parts[k], 'ms', `page load: ${what}, from the start of the navigation, ${of}`);
  // In this order each view is asked for coming from another: the page opened on the review queue.
  const views = { overdue: '#/overdue', plans: '#/plans', ledger: '#/ledger', dashboard: '#/dashboard',
    audit: '#/audit', finding: `#/finding/${facts.one}`, check: `#/check/${facts.check}`, review: '#/review' };
  const times = Object.fromEntries(Object.keys(views).map((v) => [v, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [v, hash] of Object.entries(views)) {
      times[v].push(await page.evaluate(async (h) => {
        const before = Number(document.body.dataset.rendered);
        const t0 = performance.now();
        location.hash = h;
        await new Promise((done) => {
          const look = () => (Number(document.body.dataset.rendered) > before ? done() : requestAnimationFrame(look));
          look();
        });
        await new Promise((done) => requestAnimationFrame(() => done()));
        return performance.now() - t0;
      }, hash));
    }
  }
  for (const [v, xs] of Object.entries(times)) {
    emit(`console_render_${v}`, median(xs), 'ms', `the ${v} view drawn, median of ${ROUNDS}, ${of}`);
    emit(`console_render_${v}_max`, Math.max(...xs), 'ms', `the ${v} view drawn, slowest of ${ROUNDS} (the first: menus read once), ${of}`);
  }
  if (pid) await cpuPerAnswer(page, pid, of);
} finally {
  await browser.close();
}
