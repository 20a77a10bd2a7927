/* Drives `skyload map` in Chromium while traffic flows, then checks from the
 * page itself: the aircraft drawn are exactly those Tile38 holds in the page's
 * bounds (count and ids), aircraft carry headings, the airspace is drawn, the
 * geofence events arrived, the hover label shows the route; and no script error.
 * Env: MAP_URL TILE38 COLLECTION SIM_DONE (a file that appears when the traffic
 * is over) OUT (screenshot .png) AIRSPACE (a hook/channel name) VIEW (z/lat/lon). */
'use strict';
const fs = require('fs');
const { launch, watch, fail, ok } = require('./browser.js');
const { tile38 } = require('./tile38.js');

const env = (k, d) => process.env[k] || d || fail('environment variable ' + k + ' is not set');
const MAP_URL = env('MAP_URL'), TILE38 = env('TILE38'), COLLECTION = env('COLLECTION');
const SIM_DONE = env('SIM_DONE'), OUT = env('OUT'), AIRSPACE = env('AIRSPACE');
const VIEW = env('VIEW', '4/50/5');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stats = (page) => page.evaluate(() => window.skyMap.stats());

async function until(what, seconds, fn) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) fail('timed out after ' + seconds + ' s waiting for ' + what);
    await sleep(250);
  }
}

/* A fresh answer for the current view, then Tile38's own count and ids in
 * exactly the bounds the page asked for. Retried: the last writes of the
 * pipeline may land between the page's poll and our question. */
async function compare(page, label) {
  let last = '';
  for (let attempt = 0; attempt < 8; attempt++) {
    const before = (await stats(page)).polls;
    await page.evaluate(() => window.skyMap.poll());
    await until('a fresh answer', 20, async () => (await stats(page)).polls > before);
    const s = await stats(page);
    if (s.fetchedKey !== s.view) { last = 'view moved after the answer'; continue; }
    const [w, south, e, n] = s.bbox;
    const [count, ids] = await tile38(TILE38, [
      ['WITHIN', COLLECTION, 'COUNT', 'BOUNDS', south, w, n, e],
      ['WITHIN', COLLECTION, 'LIMIT', 1000000, 'IDS', 'BOUNDS', south, w, n, e]]);
    const drawnIds = await page.evaluate(() => window.skyMap.drawnIds());
    const want = new Set(ids.ids), got = new Set(drawnIds);
    const missing = [...want].filter((x) => !got.has(x)), extra = [...got].filter((x) => !want.has(x));
    if (s.drawn === count.count && !missing.length && !extra.length && s.drawn === drawnIds.length) {
      ok(label + ': drawn ' + s.drawn + ' = Tile38 WITHIN ' + COLLECTION + ' COUNT BOUNDS ' +
         [south, w, n, e].join(' ') + ' = ' + count.count + ' (same ids)');
      return s;
    }
    last = 'drawn ' + s.drawn + ', Tile38 count ' + count.count + ', missing ' +
           missing.slice(0, 5).join(',') + ', extra ' + extra.slice(0, 5).join(',');
    await sleep(1000);
  }
  fail(label + ': the page and Tile38 disagree: ' + last);
}

(async () => {
  const { newPage, close } = await launch({ width: 1400, height: 820 });
  const page = await newPage();
  const problems = watch(page);
  await page.goto(MAP_URL + '#' + VIEW);
  await until('the coastlines and a first answer', 30, async () => {
    const r = await page.evaluate(() => window.skyMap && window.skyMap.ready);
    return r && (await stats(page)).polls > 0;
  });
  ok('page loaded, coastlines drawn');
  await until('aircraft on the map', 90, async () => (await stats(page)).drawn > 0);
  ok('aircraft arriving: ' + (await stats(page)).drawn + ' drawn');
  /* while the traffic flows: headings, the label, the picture */
  await until('aircraft with headings', 60, async () => (await stats(page)).withHeading > 20);
  /* the label of one aircraft, with its route from PostgreSQL */
  /* one clear of the panel (which takes the pointer) and of the edges */
  const pick = await page.evaluate(() => {
    const panel = document.getElementById('panel').getBoundingClientRect();
    const size = window.skyMap.map.getSize();
    const ids = window.skyMap.drawnIds();
    for (let k = 0; k < ids.length; k++) {
      const p = window.skyMap.screenOf(ids[Math.floor(ids.length / 2 + k) % ids.length]);
      if (p && p.x > panel.right + 20 && p.x < size.x - 260 && p.y > 60 && p.y < size.y - 120)
        return { id: ids[Math.floor(ids.length / 2 + k) % ids.length], x: p.x, y: p.y };
    }
    return null;
  });
  if (!pick) fail('no aircraft clear of the panel to point at');
  const id = pick.id;
  await page.mouse.move(pick.x, pick.y);
  const tipText = () => page.evaluate(() => document.getElementById('tip').textContent);
  const end = Date.now() + 15000;
  for (;;) {
    const t = await tipText();
    if (t.indexOf(id) >= 0 && t.indexOf('→') >= 0) break;
    if (Date.now() > end) fail('hover label of ' + id + ' at ' + pick.x + ',' + pick.y + ': "' + t + '"');
    await sleep(250);
  }
  ok('hover label: ' + (await page.evaluate(() => document.getElementById('tip').textContent)));
  await page.screenshot({ path: OUT });
  ok('screenshot ' + OUT);

  await page.mouse.move(5, 815);
  await until('the end of the traffic (' + SIM_DONE + ')', 180, async () => fs.existsSync(SIM_DONE));
  await sleep(2500); /* two more answers after the last positions */

  let s = await compare(page, 'zoom ' + VIEW);
  if (!(s.withHeading > 0)) fail('no aircraft drawn with a heading (they moved while the page watched)');
  ok(s.withHeading + ' aircraft drawn with their heading, ' + Math.round(s.rate) + ' updates/s at the end');
  if (s.drawn < 10) fail('only ' + s.drawn + ' aircraft in view: the test view ' + VIEW + ' is too empty');

  if (!(s.airspaces >= 1)) fail('no airspace drawn (stats ' + JSON.stringify(s) + ')');
  /* vectors are drawn on a canvas in the airspaces pane (Leaflet's preferCanvas) */
  const drawnAir = await page.evaluate((name) => {
    const pane = document.querySelector('.leaflet-airspaces-pane canvas');
    const layer = window.skyMap.airspace(name);
    return { canvas: !!pane, layer: !!layer,
             inView: !!layer && window.skyMap.map.getBounds().intersects(layer.getBounds()) };
  }, AIRSPACE);
  const listed = await page.evaluate(() => document.getElementById('airspaces').textContent);
  if (!drawnAir.canvas || !drawnAir.layer || !drawnAir.inView || listed.indexOf(AIRSPACE) < 0)
    fail('airspace ' + AIRSPACE + ' not drawn: ' + JSON.stringify(drawnAir) + ', list "' + listed + '"');
  ok('airspace ' + AIRSPACE + ' drawn in view and listed');

  await until('geofence events on the page', 30, async () => (await stats(page)).enter > 0);
  const items = await page.evaluate(() => document.querySelectorAll('#events li.enter').length);
  if (items < 1) fail('enter events counted but not listed');
  s = await stats(page);
  ok('geofence events shown: ' + s.enter + ' enter, ' + s.exit + ' exit');

  /* the whole world: every aircraft Tile38 holds in view */
  await page.evaluate(() => { location.hash = '#2.5/25/10'; });
  await until('the world view', 20, async () => (await stats(page)).zoom === 2.5);
  await compare(page, 'world view');
  await page.screenshot({ path: OUT.replace(/\.png$/, '-world.png') });

  if (problems.length) fail('script errors on the page:\n  ' + problems.join('\n  '));
  ok('no console error');
  await close();
  console.log('PASS: map page');
})().catch((e) => fail(e.stack || String(e)));
