// The dashboard in a real browser (docs/dashboard.md): Debian's chromium driven by npm
// playwright-core (never `playwright install`), against a live simulated bus:
//   imsmeter simulate --out pty  ->  imsmeter collect --source serial:PTY --http 127.0.0.1:0
// Checks: the page loads, meters appear, a new reading appears without a reload, a chart
// renders with data points, the bill's CSV download equals `imsmeter report --format csv` for
// the same period, and a meter label holding <script> is shown as text (never run).
// Usage: node dashboard_test.mjs IMSMETER ARTIFACT_DIR   (screenshots are kept there)
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import assert from 'node:assert/strict';

const here = path.dirname(new URL(import.meta.url).pathname);
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');

const [binary, artifacts] = process.argv.slice(2);
assert.ok(binary && artifacts, 'usage: node dashboard_test.mjs IMSMETER ARTIFACT_DIR');
fs.mkdirSync(artifacts, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'imsm-web-'));
const env = { ...process.env, TZ: 'America/New_York' }; // output must not depend on local time
const XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
const SPEED = '300'; // a 300 s cadence is one frame per meter per second

// Three meters: 7 carries the hostile label; 21 and 22 are plain. Meter 22's key is turned
// while its display shows peak demand (guide 3.7: cycle 150 of 19 s from power-up at 3.2 s,
// peak shown 12-18 s into it: 3.2 + 150 x 19 + 14 = 2867.2 s, about 9.6 s at 300x): a demand
// reset, whose frame (counter 0 -> 1) the collector holds until the next one confirms it.
const fleet = `seed = 7\nload_resolution_s = 60\n[[bus]]\nname = "main"\n` +
  [[7, 'S1-240-R-12-01-011-01', '[40.0, 40.0]'], [21, 'S2-480-N-01-01-041-01', '[90.0, 90.0, 90.0]'],
    [22, 'S2-208-N-04-02-021-01', '[60.0, 60.0, 60.0]']]
    .map(([id, model, a]) => `[[meter]]\nid = ${id}\nbus = "main"\nmodel = "${model}"\n` +
      `power_up_s = ${1 + id / 10}\n[meter.load]\nkind = "constant"\ncurrent_a = ${a}\npf = 0.9\n` +
      (id === 22 ? '[[meter.key_press]]\nat_s = 2867.2\nhold_s = 0.5\n' : ''))
    .join('');
const tomlString = (s) => JSON.stringify(s); // a TOML basic string escapes as JSON does here
const config = '[[tariff]]\nname = "std"\ncurrency = "USD"\nenergy_per_kwh = "0.1432"\n' +
  'demand_per_kw = "12.50"\n' +
  `[[meter]]\nid = 7\nlabel = ${tomlString(XSS)}\ntenant = "Acme"\ntariff = "std"\n` +
  '[[meter]]\nid = 21\nlabel = "Suite 21"\ntenant = "Bolt"\ntariff = "std"\n' +
  '[[meter]]\nid = 22\nlabel = "Suite 22"\ntenant = "Bolt"\ntariff = "std"\n';
fs.writeFileSync(path.join(tmp, 'fleet.toml'), fleet);
fs.writeFileSync(path.join(tmp, 'imsmeter.toml'), config);
const db = path.join(tmp, 'web.db');

// Starts a child and resolves with the first stdout line starting with `prefix` (the
// commands announce what they opened: the handshake, no sleeps).
function start(args, prefix) {
  const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const ready = new Promise((resolve, reject) => {
    lines.on('line', (l) => { if (l.startsWith(prefix)) resolve(l.slice(prefix.length).trim()); });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code} before "${prefix}"`)));
  });
  return { child, ready };
}
const exited = (child) => new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', r)));

const sim = start(['simulate', '--config', path.join(tmp, 'fleet.toml'), '--out', 'pty',
  '--speed', SPEED, '--no-progress', '--drain', '1'], 'pty main ');
const pty = await sim.ready;
const col = start(['collect', '--source', 'serial:' + pty, '--db', db, '--config',
  path.join(tmp, 'imsmeter.toml'), '--clock-scale', SPEED, '--commit-interval-ms', '100',
  '--no-fsync', '--http', '127.0.0.1:0', '--log-level', 'warn'], 'imsmeter collect: listening on ');
const base = await col.ready;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'imsm-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
  acceptDownloads: true,
  viewport: { width: 1400, height: 1100 },
});
let failed = false;
try {
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => { errors.push('dialog: ' + d.message()); d.dismiss(); });
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations++; });

  // Every meter row the page ever renders for meter 22, in order: with or without its
  // `pending` badge (a held frame shown at once).
  await page.addInitScript(() => {
    window.__rows22 = [];
    new MutationObserver((records) => {
      for (const r of records)
        for (const n of r.addedNodes)
          if (n.nodeType === 1 && n.matches('tr[data-meter="22"]'))
            window.__rows22.push(n.querySelector('.badge.pending') ? 'pending' : 'plain');
    }).observe(document, { childList: true, subtree: true });
  });

  // 1. The page loads and the three meters appear (first frames within ~2 s at 300x).
  const resp = await page.goto(base + '/');
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()['content-security-policy'], /script-src 'self'/);
  await page.waitForFunction(() => document.querySelectorAll('#meters tbody tr').length === 3,
    null, { timeout: 30000 });
  await page.waitForFunction(() => document.getElementById('live').dataset.state === 'live');

  // 2. A reading committed after the page loaded shows up without a reload: meter 21's
  // reading count grows (one frame a second) while the page stays the one document.
  const count = () => page.$eval('#meters tr[data-meter="21"] td.readings', (td) => Number(td.textContent));
  const before = await count();
  await page.waitForFunction((n) => Number(document.querySelector(
    '#meters tr[data-meter="21"] td.readings').textContent) > n, before, { timeout: 30000 });
  assert.equal(navigations, 1, 'the page reloaded');

  // 3. The hostile label is text: the cell reads back exactly, holds no element, ran nothing.
  const cell = await page.$eval('#meters tr[data-meter="7"] td.label',
    (td) => ({ text: td.textContent, elements: td.children.length }));
  assert.deepEqual(cell, { text: XSS, elements: 0 });
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  // 4. A chart with data points: meter 21's demand from its readings, energy per 15 min.
  await page.waitForFunction(() => Number(document.querySelector(
    '#meters tr[data-meter="21"] td.readings').textContent) >= 8, null, { timeout: 30000 });
  await page.click('#meters tr[data-meter="21"]');
  await page.selectOption('#chart-interval', '15m');
  await page.click('#chart-form button[type=submit]');
  await page.waitForFunction(() => Number(document.getElementById('chart-demand').dataset.points) >= 8,
    null, { timeout: 30000 });
  assert.ok(await page.$('#chart-demand canvas'), 'no uPlot canvas');
  assert.ok(await page.$('#chart-energy canvas'), 'no energy chart');
  await page.screenshot({ path: path.join(artifacts, 'dashboard-live.png'), fullPage: true });

  // 4b. Meter 22's demand reset: its held frame shows as `pending` with what it says, then the
  // next frame confirms it and the badge goes (a plain row after a pending one).
  await page.waitForFunction(() => {
    const i = window.__rows22.indexOf('pending');
    return i >= 0 && window.__rows22.indexOf('plain', i) > i;
  }, null, { timeout: 60000 });

  // 5. The bill's CSV equals the CLI's for the same period. The bus stops first so the two
  // see the same rows: the collector commits within 100 ms of a frame, but nothing tells
  // another process it is idle, so wait until the database's outbox stops growing.
  sim.child.kill('SIGTERM');
  await exited(sim.child);
  const head = () => execFileSync('sqlite3', [db, 'SELECT coalesce(max(seq),0) FROM outbox']).toString();
  for (let last = '', stable = 0; stable < 5; await new Promise((r) => setTimeout(r, 200))) {
    const now = head();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  // Bus time runs 300x from now: the period covers yesterday to ten days on.
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  const from = day(Date.now() - 86400e3), to = day(Date.now() + 10 * 86400e3);
  await page.fill('#bill-from', from);
  await page.fill('#bill-to', to);
  await page.fill('#bill-tz', 'UTC');
  await page.click('#bill-form button[type=submit]');
  await page.waitForFunction(() => document.querySelectorAll('#bill tbody tr').length > 0);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#bill-csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  const cli = execFileSync(binary, ['report', '--db', db, '--config', path.join(tmp, 'imsmeter.toml'),
    '--from', from, '--to', to, '--tz', 'UTC', '--format', 'csv'], { env }).toString();
  assert.equal(csv, cli);
  assert.match(csv, /Acme/); // a bill with lines, not an empty one
  // The table shows the same CSV: its first data row's cells are the CSV's fields.
  assert.equal(await page.$$eval('#bill tbody tr', (rows) => rows.length), cli.trim().split('\n').length - 1);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-bill.png'), fullPage: true });
  assert.deepEqual(errors, []);
  console.log('dashboard: ok (%d readings of meter 21 seen live; CSV %d bytes = CLI)', await count(), csv.length);
} catch (e) {
  failed = true;
  console.error(e);
  const page = context.pages()[0];
  if (page) await page.screenshot({ path: path.join(artifacts, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  for (const c of [sim.child, col.child]) if (c.exitCode === null) c.kill('SIGTERM');
  const rc = await exited(col.child);
  if (rc !== 0) { console.error('collect exited', rc); failed = true; }
  fs.rmSync(profile, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
