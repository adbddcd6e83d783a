// Regenerates docs/dashboard.png from a running `imsmeter demo` (not a test):
//   imsmeter demo --port 0 &   node tests/web/docs_screenshot.mjs URL docs/dashboard.png
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const { chromium } = createRequire(path.join(here, '..', '..', 'web', 'package.json'))('playwright-core');
const [url, out] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'imsm-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 1250 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = context.pages()[0] || (await context.newPage());
await page.goto(url);
await page.waitForFunction(() => document.querySelectorAll('#meters tbody tr').length >= 20);
await page.click('#meters tr[data-meter="2578"]');
await page.waitForFunction(() => Number(document.getElementById('chart-demand').dataset.points) > 0);
await page.click('#bill-form button[type=submit]');
await page.waitForFunction(() => document.querySelectorAll('#bill tbody tr').length > 0);
await page.evaluate(() => window.scrollTo(0, 0));
await page.screenshot({ path: out });
await context.close();
fs.rmSync(profile, { recursive: true, force: true });
