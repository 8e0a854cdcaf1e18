// morning.mjs: a supervisor's morning in the review console, in Debian's
// chromium driven by playwright-core (tests/e2e/console_morning.sh sets the
// stage and checks the register afterwards through syncd).  Each step
// leaves a screenshot in $ARTIFACTS.  Environment: CONSOLE_URL (the
// supervisor's console, with its token), INSPECTOR_URL (an inspector's),
// CLOSE_A, BACK_B, CONFLICT_C, CONFLICT_KEEP, STALE_D, FORBID_E (finding
// ids and the value to keep), STALE_HOOK (a command: another device
// closes STALE_D and the replica pulls it), ARTIFACTS, EXPORT_DIR (where the
// ledger's downloads are saved).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const ART = env('ARTIFACTS');
mkdirSync(ART, { recursive: true });

let page;
let shot = 0;
async function snap(name) {
  shot += 1;
  await page.screenshot({ path: `${ART}/${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}
function check(cond, what) {
  if (!cond) throw new Error(what);
}
// The message line once it says something of kind (ok or error); its text.
async function message(kind) {
  const m = page.locator(`#message.${kind}:not([hidden])`);
  await m.waitFor({ timeout: 20000 });
  return m.textContent();
}
async function clearMessage() {
  await page.evaluate(() => {
    const m = document.getElementById('message');
    m.hidden = true;
    m.className = '';
    m.textContent = '';
  });
}
const card = (id) => page.locator(`article.card:has(#h-${id})`);
// Ask for a view by its fragment and wait until it is drawn.
async function show(hash, view) {
  const before = Number(await page.evaluate(() => document.body.dataset.rendered));
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(([v, n]) => document.body.dataset.view === v && Number(document.body.dataset.rendered) > n,
    [view, before]);
}

// Do what redraws the view in place (a filter applied) and wait until it is drawn again.
async function redrawn(doIt) {
  const before = Number(await page.evaluate(() => document.body.dataset.rendered));
  await doIt();
  await page.waitForFunction((n) => Number(document.body.dataset.rendered) > n, before);
}

async function sync(name) {
  await clearMessage();
  await page.getByRole('button', { name: /^(同步|Sync)$/ }).click();
  const text = await message('ok');
  check(/同步完成|Synced/.test(text), `${name}: the sync says ${text}`);
  await snap(name);
  return text;
}

async function morning(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(env('CONSOLE_URL'));
  await page.locator('#who').filter({ hasText: /督导/ }).waitFor();
  check(!/token=/.test(page.url()), 'the token stays in the address bar');

  // 1. Sync.
  await sync('sync');

  // 2. The review queue.
  await card(env('CLOSE_A')).waitFor();
  await card(env('BACK_B')).waitFor();
  await snap('review-queue');

  // 3. A finding's photos, before and after; the after one full size.
  const a = card(env('CLOSE_A'));
  check((await a.locator('section').nth(0).locator('img').count()) === 1, 'one photo before');
  check((await a.locator('section').nth(1).locator('img').count()) === 1, 'one photo after');
  // Fetched with the session header, shown from blob: URLs; the console sets no cookie, which
  // every other port of 127.0.0.1 would be sent.
  await a.locator('section').nth(1).locator('img').scrollIntoViewIfNeeded();
  await page.waitForFunction((id) => {
    const imgs = [...document.querySelectorAll(`article[aria-labelledby="h-${id}"] img`)];
    return imgs.length === 2 && imgs.every((i) => i.naturalWidth > 0 && i.src.startsWith('blob:'));
  }, env('CLOSE_A'));
  check((await ctx.cookies()).length === 0, 'the console sets no cookie');
  await a.locator('section').nth(1).locator('button.thumb').click();
  await page.locator('#viewer[open]').waitFor();
  await page.waitForFunction(() => document.getElementById('viewer-img').naturalWidth > 0);
  await snap('photo-full-size');
  await page.keyboard.press('Escape');
  await page.locator('#viewer[open]').waitFor({ state: 'detached' }).catch(() => {});

  // 4. Approve one closure (销号).
  await clearMessage();
  await a.getByRole('button', { name: /销号/ }).click();
  check(/已销号/.test(await message('ok')), 'the closure is confirmed');
  await card(env('CLOSE_A')).waitFor({ state: 'detached' });
  await snap('closed');

  // 5. Send another back with a reason, by keyboard.
  await clearMessage();
  const b = card(env('BACK_B'));
  await b.getByRole('button', { name: /退回/ }).focus();
  await page.keyboard.press('Enter');
  const reason = b.getByLabel('理由');
  await reason.waitFor();
  await page.keyboard.type('照片看不到新阀门，请补充整改后照片');
  await snap('send-back-reason');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  check(/已退回/.test(await message('ok')), 'the send back is confirmed');
  await snap('sent-back');

  // 6. Resolve a conflict, keeping one value.
  await clearMessage();
  await show(`#/finding/${env('CONFLICT_C')}`, 'finding');
  const keep = page.locator('.conflict button', { hasText: env('CONFLICT_KEEP') });
  await keep.waitFor();
  await snap('conflict');
  await keep.click();
  check(/冲突已解决/.test(await message('ok')), 'the resolve is confirmed');
  await page.locator('.conflict').waitFor({ state: 'detached' });
  await snap('resolved');

  // 7. Export the ledger: the findings ledger, a filter the library refuses, then CSV and XLSX.
  await clearMessage();
  await show('#/ledger', 'ledger');
  await page.locator('table.ledger tbody tr').first().waitFor();
  await snap('ledger');
  // The org unit filter offers the register's units as a tree, each indented under its parent.
  const orgs = await page.locator('form.filters select').first().evaluate((s) =>
    [...s.options].map((o) => `${o.value}:${o.textContent.length - o.textContent.trimStart().length}`).join(' '));
  check(orgs === ':0 city:0 county:2 street:4 junan:6 junan-garden:8', `the org units' menu: ${orgs}`);
  await page.getByLabel('发现期间').fill('2026-13');
  await redrawn(() => page.getByRole('button', { name: '查询' }).click());
  const refused = await message('error');
  check(/YYYY-Qn/.test(refused) && /SC_ERR_INVALID_ARG/.test(refused), `the period refused: ${refused}`);
  check((await page.getByLabel('发现期间').inputValue()) === '2026-13', 'the filter stays as typed');
  await snap('ledger-refused-filter');
  await clearMessage();
  await redrawn(() => page.getByRole('button', { name: '清除条件' }).click());
  await page.locator('table.ledger tbody tr').first().waitFor();
  for (const [ext, name] of [['csv', '导出 CSV'], ['xlsx', '导出 Excel（XLSX）']]) {
    await clearMessage();
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name }).click()]);
    check(file.suggestedFilename() === `ledger-findings.${ext}`, `the ${ext} is named ${file.suggestedFilename()}`);
    await file.saveAs(`${env('EXPORT_DIR')}/ledger.${ext}`);
    check(/已导出/.test(await message('ok')), `the ${ext} export is confirmed`);
  }
  await snap('ledger-exported');

  // The same page in English: every label switches.
  await show('#/review', 'review');
  await page.getByRole('button', { name: 'English' }).click();
  await page.getByRole('link', { name: 'Review queue' }).waitFor();
  await snap('review-queue-english');
  await page.getByRole('button', { name: '中文' }).click();
  await page.getByRole('link', { name: '审核队列' }).waitFor();

  // 8. Sync again: the morning's ops go to syncd.
  const done = await sync('sync-again');
  check(/接受 3 条/.test(done), `three ops accepted: ${done}`);

  // The audit: the closure's record proven in syncd's log, from the finding's timeline.
  await show(`#/finding/${env('CLOSE_A')}`, 'finding');
  await page.locator('table.timeline tr', { hasText: '销号' }).getByRole('link').click();
  const proof = page.locator('#view p.ok').first();
  await proof.waitFor();
  check(/已核验/.test(await proof.textContent()), 'the closure is proven in the log');
  await page.getByRole('button', { name: '全面核验本副本' }).click();
  const verified = page.locator('.verification p.ok');
  await verified.waitFor();
  check(/核验通过/.test(await verified.textContent()), 'the replica verifies');
  await snap('audit-proof');
  for (const v of ['overdue', 'plans']) {
    await show(`#/${v}`, v);
    await snap(v);
  }
  // The dashboard: the statistics and the two charts the console drew.
  await show('#/dashboard', 'dashboard');
  check((await page.locator('figure.chart svg').count()) === 2, 'two charts on the dashboard');
  check(/整改率/.test(await page.locator('figure.chart svg').first().textContent()), 'the rate chart is titled');
  check((await page.locator('table.stats tbody tr').count()) > 0, 'the statistics by unit');
  await snap('dashboard');

  // A stale page: another device closed this finding since the page was read.
  await show('#/review', 'review');
  const d = card(env('STALE_D'));
  await d.waitFor();
  execFileSync('bash', ['-c', env('STALE_HOOK')], { stdio: 'inherit' });
  await clearMessage();
  await d.getByRole('button', { name: /销号/ }).click();
  const stale = await message('error');
  check(/already closed/.test(stale) && /SC_ERR_INVALID_TRANSITION/.test(stale), `the stale page is told: ${stale}`);
  await snap('refused-stale-page');

  // The session outlives a reload and reaches another tab of this console, without the token.
  await page.reload();
  await page.locator('#who').filter({ hasText: /督导/ }).waitFor();
  const tab = await ctx.newPage();
  tab.on('pageerror', (e) => { throw e; });
  await tab.goto(new URL(page.url()).origin + '/#/review');
  await tab.locator('#who').filter({ hasText: /督导/ }).waitFor();
  await tab.close();

  await ctx.close();
}

// A role that may not close: the inspector's console shows the library's refusal.
async function inspector(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await ctx.newPage();
  page.on('pageerror', (e) => { throw e; });
  await page.goto(env('INSPECTOR_URL'));
  const e = card(env('FORBID_E'));
  await e.waitFor();
  await clearMessage();
  await e.getByRole('button', { name: /销号/ }).click();
  const text = await message('error');
  check(/SC_ERR_FORBIDDEN/.test(text), `the inspector is refused: ${text}`);
  await snap('refused-role');
  await ctx.close();
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  await morning(browser);
  await inspector(browser);
  console.log('morning: every step done');
} catch (e) {
  if (page) await page.screenshot({ path: `${ART}/failure.png`, fullPage: true }).catch(() => {});
  console.error('FAIL:', e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
