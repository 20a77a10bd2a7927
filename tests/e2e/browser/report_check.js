/* Opens a report page from disk (file://, as a person would) in Chromium and
 * checks it from the page itself: it rendered, every chart and map is there,
 * the checks table has the report's checks, and no script error or failed load
 * (everything must be inline). Usage: node report_check.js FILE.html OUT.png
 * [EXPECTED_CHECKS] (a verify page) or FILE.html OUT.png --capacity STEPS. */
'use strict';
const path = require('path');
const { launch, watch, fail, ok } = require('./browser.js');

const [file, out, a3, a4] = process.argv.slice(2);
if (!file || !out) fail('usage: report_check.js FILE.html OUT.png [CHECKS | --capacity STEPS]');

(async () => {
  const { newPage, close } = await launch({ width: 1280, height: 900 });
  const page = await newPage();
  const problems = watch(page);
  const requests = [];
  page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
  await page.goto('file://' + path.resolve(file));
  await page.waitForFunction(() => window.skyReport && (window.skyReport.ready || window.skyReport.error),
                             null, { timeout: 20000 });
  await page.waitForTimeout(800); /* the map's canvas layers */
  const r = await page.evaluate(() => window.skyReport);
  if (r.error) fail('the page failed: ' + r.error);
  const canvases = await page.evaluate(() => document.querySelectorAll('.uplot canvas').length);
  if (a3 === '--capacity') {
    if (r.kind !== 'capacity') fail('not a capacity page: ' + JSON.stringify(r));
    if (r.charts !== 3 || canvases !== 3) fail('expected 3 charts, got ' + r.charts + ' (' + canvases + ' canvases)');
    const rows = await page.evaluate(() => document.querySelectorAll('table.lat tbody tr').length);
    if (rows !== +a4) fail('steps table: ' + rows + ' rows, expected ' + a4);
    ok('capacity page: 3 charts (offered vs stored, e2e p99, CPU), ' + rows + ' steps');
  } else {
    if (r.kind !== 'verify') fail('not a run report: ' + JSON.stringify(r));
    if (r.charts < 1 || canvases < 1) fail('no latency chart');
    const series = await page.evaluate(() => document.querySelectorAll('.u-legend .u-series').length);
    if (series < 3) fail('the latency chart has ' + series + ' legend entries (stages + SLO expected)');
    if (r.maps !== 1) fail('no tracks map');
    if (!(r.tracks > 0) || !(r.heads > 0)) fail('no tracks drawn: ' + JSON.stringify(r));
    const land = await page.evaluate(() => document.querySelectorAll('.map .leaflet-overlay-pane canvas').length);
    if (land < 1) fail('the tracks map has no coastlines');
    const rows = await page.evaluate(() => document.querySelectorAll('table.checks tbody tr').length);
    if (a3 && rows !== +a3) fail('checks table: ' + rows + ' rows, expected ' + a3);
    ok('run report: ' + rows + ' checks, latency chart with ' + series + ' series, ' + r.tracks + ' tracks');
  }
  if (requests.length) fail('the page fetched from the network: ' + requests.join(' '));
  if (problems.length) fail('script errors on the page:\n  ' + problems.join('\n  '));
  ok('no console error, nothing fetched');
  await page.screenshot({ path: out, fullPage: true });
  ok('screenshot ' + out);
  await close();
  console.log('PASS: ' + file);
})().catch((e) => fail(e.stack || String(e)));
