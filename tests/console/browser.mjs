// SPDX-License-Identifier: MIT
//
// browser.mjs: the console's browser test, driven by test_console_in_chromium.py.
// Debian's chromium through playwright-core (headless, fresh profile):
// open the overview with the token, go to Leaks, open a leaked object,
// follow a referent and a referrer, take a snapshot and see the diff.
// Screenshots go to the artifacts folder.  Prints one JSON line of what it
// saw; exits 1 with the error on any failure.
//
//   node browser.mjs URL ARTIFACTS_DIR LEAKED_TYPE GROWING_TYPE
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, artifacts, leakedType, growingType] = process.argv.slice(2);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pyhost-chromium-'));
const seen = { dialogs: 0, pageErrors: [], steps: [] };

async function shot(page, name) {
  await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
}

async function main() {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-dev-shm-usage'],
    viewport: { width: 1100, height: 800 },
  });
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('dialog', d => { seen.dialogs++; d.dismiss(); });
    page.on('pageerror', e => seen.pageErrors.push(String(e)));

    // 1. The overview, signed in by the token in the URL.
    const first = await page.goto(url, { waitUntil: 'load' });
    seen.steps.push(['overview', first.status(), page.url(),
      await page.textContent('h1')]);
    await shot(page, 'console-overview.png');

    // 2. The Leaks page, from the navigation bar.
    await page.click('nav >> text=Leaks');
    await page.waitForSelector('#leak-groups');
    const row = page.locator('#leak-groups tr', { hasText: leakedType });
    seen.steps.push(['leaks', await row.count()]);
    await shot(page, 'console-leaks.png');

    // 3. Open one leaked object.
    await row.first().locator('a.obj').first().click();
    await page.waitForSelector('#repr');
    const objectUrl = page.url();
    seen.steps.push(['object', await page.textContent('h1'),
      await page.textContent('#repr'),
      await page.locator('table tr', { hasText: leakedType }).count()]);
    await shot(page, 'console-object.png');

    // 4. Follow a referent (its payload list), then a referrer of that
    //    list back to the object.
    await page.locator('#referents tr', { hasText: 'list' })
      .first().locator('a').click();
    await page.waitForSelector('#referrers');
    seen.steps.push(['referent', page.url() !== objectUrl,
      await page.locator('table tr').first().textContent()]);
    await page.locator('#referrers tr', { hasText: leakedType })
      .first().locator('a').click();
    await page.waitForSelector('#repr');
    seen.steps.push(['referrer', page.url() === objectUrl,
      await page.textContent('#repr')]);

    // 5. Take a snapshot on the Leaks page; the Python side keeps leaking
    //    objects of growingType, so the diff must show them.
    await page.click('nav >> text=Leaks');
    await page.click('#btn-snapshot');
    await page.waitForSelector('#grown');
    await page.waitForTimeout(600);
    await page.reload();
    await page.waitForSelector('#grown');
    seen.steps.push(['diff', page.url(),
      await page.locator('#grown tr', { hasText: growingType }).count(),
      await page.locator('#leak-groups tr', { hasText: growingType })
        .count()]);
    await shot(page, 'console-diff.png');

    // 6. The no-GIL pages render too.
    await page.click('nav >> text=Responsiveness');
    await page.waitForSelector('#stalls');
    await page.click('nav >> text=Memory');
    await page.waitForSelector('svg.spark');
    seen.steps.push(['memory', await page.locator('svg.spark').count()]);
    await shot(page, 'console-memory.png');
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(seen));
}

main().catch(e => {
  console.error('browser test failed:', e);
  console.log(JSON.stringify(seen));
  process.exit(1);
});
