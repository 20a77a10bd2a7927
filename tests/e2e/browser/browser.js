/* Shared by the browser tests: Debian's Chromium driven by playwright-core (from
 * the build directory's node_modules: web/package-lock.json), launched with the
 * flags this machine's closed network needs, and a console/page-error collector. */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function playwright() {
  const build = process.env.SKY_BUILD_DIR;
  const candidates = [
    build && path.resolve(build, 'web', 'node_modules', 'playwright-core'),
    'playwright-core'
  ].filter(Boolean);
  for (const c of candidates) {
    try { return require(c); } catch (e) { /* next */ }
  }
  throw new Error('playwright-core not found: build first (CMake runs npm ci into ' +
                  '<build>/web) and set SKY_BUILD_DIR');
}

/* A fresh profile each time (a persistent context is how Playwright takes a
 * --user-data-dir); returns { context, newPage(viewport), close }. */
async function launch(viewport) {
  const exe = process.env.SKY_CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(exe)) throw new Error(exe + ' not found: apt-get install chromium');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sky-chromium-'));
  const { chromium } = playwright();
  /* Without the background-networking flags Chromium keeps dialling out, and
   * this machine refuses every such connection. */
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    viewport: viewport || { width: 1400, height: 820 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync']
  });
  const close = async () => {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  };
  const newPage = async () => {
    const pages = context.pages();
    return pages.length ? pages[0] : context.newPage();
  };
  return { context, newPage, close };
}

/* Records console errors and uncaught exceptions of a page. */
function watch(page) {
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => problems.push('request failed: ' + r.url() + ' ' +
                                                (r.failure() && r.failure().errorText)));
  return problems;
}

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}

function ok(msg) {
  console.error('ok: ' + msg);
}

module.exports = { launch, watch, fail, ok };
