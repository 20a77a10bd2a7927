/* skyload's live map: asks the server for the aircraft Tile38 holds in the
 * visible bounds once a second (at once after a pan or zoom), draws them on one
 * canvas (100,000 triangles in a few milliseconds: one path per altitude
 * colour), shows the airspaces Tile38 holds and flashes geofence events.
 * window.skyMap.stats() tells a test what was drawn. */
(function () {
  'use strict';
  var W = window.SkyWorld;
  var POLL_MS = 1000;
  var MAX_LAT = 85.0511287798;

  var map = L.map('map', {
    minZoom: 2, maxZoom: 13, zoomSnap: 0.5, worldCopyJump: false,
    maxBounds: [[-89, -200], [89, 200]], maxBoundsViscosity: 0.6, preferCanvas: true
  });
  map.attributionControl.setPrefix('Leaflet');
  map.attributionControl.addAttribution('Natural Earth via world-atlas · data: Tile38');
  map.createPane('airspaces').style.zIndex = 420;

  function viewFromHash() {
    var m = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)$/.exec(location.hash);
    if (m) { map.setView([+m[2], +m[3]], +m[1]); return; }
    map.fitBounds([[-50, -150], [70, 160]]);
  }
  viewFromHash();
  window.addEventListener('hashchange', viewFromHash);

  /* ---- canvases over the map (pointer events go to the map) ----------------- */
  function makeCanvas(id, z) {
    var c = document.createElement('canvas');
    c.id = id;
    c.style.zIndex = z;
    c.style.position = 'absolute';
    c.style.left = '0';
    c.style.top = '0';
    c.style.pointerEvents = 'none';
    map.getContainer().appendChild(c);
    return c;
  }
  var canvas = makeCanvas('aircraft', 450), fx = makeCanvas('flashes', 460);
  var ctx = canvas.getContext('2d'), fxctx = fx.getContext('2d');

  function fitCanvas(c, g) {
    var size = map.getSize(), dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(size.x * dpr) || c.height !== Math.round(size.y * dpr)) {
      c.width = Math.round(size.x * dpr);
      c.height = Math.round(size.y * dpr);
      c.style.width = size.x + 'px';
      c.style.height = size.y + 'px';
    }
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return size;
  }

  /* ---- the aircraft of the last answer, as columns ---------------------------- */
  var A = { n: 0, ids: [], lat: null, lon: null, alt: null, spd: null, seq: null,
            mx: null, my: null, hc: null, hs: null, hasHdg: null, order: null, bucketEnd: [] };
  var prev = new Map(); /* id -> {lat, lon, seq, hdg} from the previous answer */
  var stats = { drawn: 0, fetched: 0, total: 0, truncated: false, bbox: null, polls: 0,
                tile38Ms: 0, rate: 0, airspaces: 0, airspacesSkipped: [], events: 0,
                enter: 0, exit: 0, error: null, drawMs: 0, viewKey: null, fetchedKey: null };

  function mercX(lon) { return 0.5 + lon / 360; }
  function mercY(lat) {
    lat = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI / 180;
    return 0.5 - Math.log(Math.tan(Math.PI / 4 + lat / 2)) / (2 * Math.PI);
  }
  function bearing(lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180, p1 = lat1 * r, p2 = lat2 * r, dl = (lon2 - lon1) * r;
    return Math.atan2(Math.sin(dl) * Math.cos(p2),
                      Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl));
  }

  function ingest(j, dtSec) {
    var n = j.ids.length, ids = j.ids;
    var lat = Float64Array.from(j.lat), lon = Float64Array.from(j.lon);
    var alt = Int32Array.from(j.alt), spd = Int32Array.from(j.spd), seq = Float64Array.from(j.seq);
    var mx = new Float64Array(n), my = new Float64Array(n);
    var hc = new Float32Array(n), hs = new Float32Array(n), has = new Uint8Array(n);
    var next = new Map(), updates = 0, both = 0;
    var nb = W.ALT_STOPS.length, counts = new Int32Array(nb), bucket = new Uint8Array(n);
    for (var i = 0; i < n; i++) {
      mx[i] = mercX(lon[i]);
      my[i] = mercY(lat[i]);
      var p = prev.get(ids[i]), hdg = null;
      if (p) {
        both++;
        if (seq[i] > p.seq) updates += seq[i] - p.seq;
        if (p.lat !== lat[i] || p.lon !== lon[i]) hdg = bearing(p.lat, p.lon, lat[i], lon[i]);
        else hdg = p.hdg;
      }
      if (hdg !== null) { hc[i] = Math.cos(hdg); hs[i] = Math.sin(hdg); has[i] = 1; }
      next.set(ids[i], { lat: lat[i], lon: lon[i], seq: seq[i], hdg: hdg });
      var b = W.altitudeBucket(alt[i]);
      bucket[i] = b;
      counts[b]++;
    }
    /* indices grouped by colour: one canvas path per colour */
    var order = new Uint32Array(n), ends = [], at = new Int32Array(nb), sum = 0;
    for (var k = 0; k < nb; k++) { at[k] = sum; sum += counts[k]; ends.push(sum); }
    for (i = 0; i < n; i++) order[at[bucket[i]]++] = i;
    prev = next;
    A = { n: n, ids: ids, lat: lat, lon: lon, alt: alt, spd: spd, seq: seq, mx: mx, my: my,
          hc: hc, hs: hs, hasHdg: has, order: order, bucketEnd: ends };
    if (dtSec > 0 && both > 0) {
      var inst = updates / dtSec;
      stats.rate = stats.polls > 1 ? 0.6 * stats.rate + 0.4 * inst : inst;
    }
  }

  /* ---- drawing ----------------------------------------------------------------- */
  var gridStale = true, screenX = new Float32Array(0), screenY = new Float32Array(0);

  function draw() {
    var t0 = performance.now();
    var size = fitCanvas(canvas, ctx);
    ctx.clearRect(0, 0, size.x, size.y);
    var z = map.getZoom(), scale = 256 * Math.pow(2, z), min = map.getPixelBounds().min;
    var s = z < 3 ? 4.2 : z < 4 ? 4.8 : z < 6 ? 5.6 : 7, dot = Math.max(2, s * 0.5);
    if (screenX.length < A.n) { screenX = new Float32Array(A.n); screenY = new Float32Array(A.n); }
    var drawn = 0, headed = 0, w = size.x + 1, h = size.y + 1, start = 0;
    ctx.lineWidth = 0.6;
    ctx.strokeStyle = 'rgba(5, 12, 18, 0.9)';
    for (var b = 0; b < A.bucketEnd.length; b++) {
      var end = A.bucketEnd[b];
      if (end === start) continue;
      ctx.beginPath();
      for (var k = start; k < end; k++) {
        var i = A.order[k], x = A.mx[i] * scale - min.x, y = A.my[i] * scale - min.y;
        screenX[i] = x;
        screenY[i] = y;
        if (x < -1 || y < -1 || x > w || y > h) { screenX[i] = NaN; continue; }
        drawn++;
        if (A.hasHdg[i]) {
          headed++;
          /* a triangle pointing along the heading (screen y grows southwards) */
          var c = A.hc[i], sn = A.hs[i];
          ctx.moveTo(x + sn * s, y - c * s);
          ctx.lineTo(x + (-sn * 0.7 - c * 0.62) * s, y + (c * 0.7 - sn * 0.62) * s);
          ctx.lineTo(x + (-sn * 0.35) * s, y + (c * 0.35) * s);
          ctx.lineTo(x + (-sn * 0.7 + c * 0.62) * s, y + (c * 0.7 + sn * 0.62) * s);
          ctx.closePath();
        } else {
          ctx.moveTo(x + dot, y);
          ctx.arc(x, y, dot, 0, 2 * Math.PI);
        }
      }
      ctx.fillStyle = W.ALT_STOPS[b][1];
      ctx.fill();
      if (z >= 5) ctx.stroke();
      start = end;
    }
    stats.drawn = drawn;
    stats.withHeading = headed;
    stats.viewKey = viewKey();
    stats.drawMs = performance.now() - t0;
    gridStale = true;
    if (hover !== null) showTip(hover);
  }

  var frameQueued = false;
  function queueDraw() {
    if (frameQueued) return;
    frameQueued = true;
    requestAnimationFrame(function () { frameQueued = false; draw(); });
  }
  map.on('move resize viewreset zoomend', queueDraw);
  map.on('zoomanim', function () { canvas.style.opacity = 0; fx.style.opacity = 0; });
  map.on('zoomend', function () { canvas.style.opacity = 1; fx.style.opacity = 1; });

  /* ---- the viewport's bounds, as the server takes them ---------------------- */
  function clamp(v, lo, hi) { return Math.max(lo, Math.min(hi, v)); }
  function viewBbox() {
    var b = map.getBounds();
    return [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
            clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map(function (v) { return +v.toFixed(6); });
  }
  function viewKey() { return viewBbox().join(','); }

  /* ---- polling ------------------------------------------------------------------ */
  var inflight = null, timer = null, lastAnswer = 0, eventsSeq = 0, firstEvents = true;
  var $ = function (id) { return document.getElementById(id); };
  var fmt = new Intl.NumberFormat('en-US');

  function setStatus(msg) { stats.error = msg; $('status').textContent = msg || ''; }

  function poll() {
    clearTimeout(timer);
    if (inflight) inflight.abort();
    var ctrl = new AbortController(), bbox = viewBbox(), t0 = performance.now();
    inflight = ctrl;
    fetch('api/flights?bbox=' + bbox.join(',') + '&events=' + eventsSeq,
          { signal: ctrl.signal, cache: 'no-store' })
      .then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok || !j.ok) throw new Error(j.error || ('HTTP ' + r.status));
          return j;
        });
      })
      .then(function (j) {
        inflight = null;
        var now = performance.now();
        ingest(j, lastAnswer ? (now - lastAnswer) / 1000 : 0);
        lastAnswer = now;
        stats.polls++;
        stats.fetched = j.count;
        stats.total = j.total;
        stats.truncated = j.truncated;
        stats.bbox = bbox;
        stats.fetchedKey = bbox.join(',');
        stats.tile38Ms = j.tile38_ms;
        onEvents(j.events, j.server_ms);
        setStatus(j.truncated ? 'showing the first ' + fmt.format(j.count) +
                  ' aircraft of this view (--max-aircraft)' : null);
        draw();
        counters();
        timer = setTimeout(poll, Math.max(100, POLL_MS - (performance.now() - t0)));
      })
      .catch(function (e) {
        if (e.name === 'AbortError') return;
        inflight = null;
        setStatus('cannot read the aircraft: ' + e.message);
        timer = setTimeout(poll, 2000);
      });
  }
  map.on('moveend', function () {
    history.replaceState(null, '', '#' + map.getZoom() + '/' + map.getCenter().lat.toFixed(4) +
                         '/' + map.getCenter().lng.toFixed(4));
    poll();
  });

  function counters() {
    $('n-view').textContent = fmt.format(stats.drawn);
    $('n-rate').textContent = stats.polls > 1 ? fmt.format(Math.round(stats.rate)) : '–';
    $('n-total').textContent = stats.total >= 0 ? fmt.format(stats.total) : '–';
    $('n-ms').textContent = stats.tile38Ms.toFixed(stats.tile38Ms < 10 ? 1 : 0) + ' ms';
  }

  /* ---- legend ------------------------------------------------------------------ */
  (function legend() {
    var labels = ['<1k', '<5k', '<10k', '<20k', '<30k', '<36k', 'FL360+'];
    $('legend').innerHTML = W.ALT_STOPS.map(function (s, i) {
      return '<span style="background:' + s[1] + '">' + labels[i] + '</span>';
    }).join('');
  })();

  /* ---- airspaces (Tile38's HOOKS * and CHANS *) ------------------------------- */
  var airLayer = null, airByName = {};
  function loadAirspaces() {
    fetch('api/airspaces', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        if (!fc.ok) throw new Error(fc.error);
        if (airLayer) map.removeLayer(airLayer);
        airByName = {};
        var style = { color: '#d16cff', weight: 1.6, opacity: 0.9, fillColor: '#b04cff',
                      fillOpacity: 0.10, dashArray: '5 4', pane: 'airspaces' };
        airLayer = L.geoJSON(fc, {
          style: function () { return style; },
          pointToLayer: function (f, ll) {
            return f.properties.radius_m > 0 ? L.circle(ll, L.extend({ radius: f.properties.radius_m }, style))
                                             : L.circleMarker(ll, L.extend({ radius: 6 }, style));
          },
          onEachFeature: function (f, layer) {
            airByName[f.properties.name] = layer;
            layer.bindTooltip(W.esc(f.properties.name), { permanent: true, direction: 'center',
                                                          className: 'airspace-label' });
          }
        }).addTo(map);
        stats.airspaces = airLayer.getLayers().length;
        stats.airspacesSkipped = fc.skipped;
        $('n-air').textContent = fc.features.length ? '(' + fc.features.length + ')' : '';
        $('airspaces').innerHTML = fc.features.map(function (f) {
          var p = f.properties;
          return '<li><span>' + W.esc(p.name) + '</span><span class="muted">' + W.esc(p.kind) +
                 ' · ' + W.esc(p.area.toLowerCase()) +
                 (p.radius_m ? ' ' + (p.radius_m / 1852).toFixed(0) + ' nm' : '') + '</span></li>';
        }).join('') + fc.skipped.map(function (s) {
          return '<li class="muted">' + W.esc(s) + '</li>';
        }).join('') || '<li class="muted">none in Tile38 (HOOKS * / CHANS *)</li>';
      })
      .catch(function (e) { setStatus('cannot read the airspaces: ' + e.message); });
  }

  /* ---- geofence events ---------------------------------------------------------- */
  var flashes = [];
  function onEvents(ev, serverMs) {
    if (!ev) return;
    stats.enter = ev.enter;
    stats.exit = ev.exit;
    $('n-events').textContent = ev.state.indexOf('off') === 0 ? '(off)' :
      '(' + fmt.format(ev.enter) + ' enter · ' + fmt.format(ev.exit) + ' exit)';
    if (ev.state.indexOf('off') === 0 && firstEvents)
      $('events').innerHTML = '<li class="muted">start skyload map with --events-topic</li>';
    var list = $('events');
    if (firstEvents && ev.list.length === 0 && ev.state.indexOf('off') !== 0)
      list.innerHTML = '<li class="muted">' + W.esc(ev.state) + '</li>';
    ev.list.forEach(function (e) {
      stats.events++;
      if (list.firstChild && list.firstChild.classList.contains('muted')) list.innerHTML = '';
      var li = document.createElement('li');
      li.className = e.detect + (firstEvents ? '' : ' fresh');
      li.innerHTML = '<span><span class="kind">' + W.esc(e.detect) + '</span> ' + W.esc(e.hook) +
                     '</span><span class="muted">' + W.esc(e.id) + '</span>';
      list.insertBefore(li, list.firstChild);
      while (list.childNodes.length > 40) list.removeChild(list.lastChild);
      /* only what happened in the last seconds flashes */
      if (e.lat !== undefined && serverMs - e.received_ms < 10000)
        flashes.push({ lat: e.lat, lon: e.lon, t0: performance.now(), enter: e.detect === 'enter' });
      var a = airByName[e.hook];
      if (a && a.setStyle && serverMs - e.received_ms < 10000) {
        a.setStyle({ fillOpacity: 0.35, weight: 3 });
        setTimeout(function () { a.setStyle({ fillOpacity: 0.10, weight: 1.6 }); }, 700);
      }
    });
    eventsSeq = ev.next;
    firstEvents = false;
    if (flashes.length) requestAnimationFrame(animate);
  }

  var animating = false;
  function animate() {
    if (animating) return;
    animating = true;
    (function frame() {
      var size = fitCanvas(fx, fxctx), now = performance.now();
      fxctx.clearRect(0, 0, size.x, size.y);
      flashes = flashes.filter(function (f) { return now - f.t0 < 2000; });
      flashes.forEach(function (f) {
        var p = map.latLngToContainerPoint([f.lat, f.lon]), t = (now - f.t0) / 2000;
        fxctx.beginPath();
        fxctx.arc(p.x, p.y, 6 + 34 * t, 0, 2 * Math.PI);
        fxctx.strokeStyle = (f.enter ? 'rgba(74, 222, 128, ' : 'rgba(255, 122, 89, ') + (1 - t) + ')';
        fxctx.lineWidth = 3 * (1 - t) + 1;
        fxctx.stroke();
      });
      if (flashes.length) requestAnimationFrame(frame);
      else animating = false;
    })();
  }

  /* ---- hover label -------------------------------------------------------------- */
  var hover = null, grid = new Map(), CELL = 12, meta = new Map();
  function buildGrid() {
    grid = new Map();
    for (var i = 0; i < A.n; i++) {
      var x = screenX[i];
      if (x !== x) continue; /* NaN: not drawn */
      var key = Math.floor(x / CELL) * 65536 + Math.floor(screenY[i] / CELL);
      var cell = grid.get(key);
      if (cell) cell.push(i); else grid.set(key, [i]);
    }
    gridStale = false;
  }
  function nearest(x, y) {
    if (gridStale) buildGrid();
    var best = null, bd = 100, cx = Math.floor(x / CELL), cy = Math.floor(y / CELL);
    for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) {
      var cell = grid.get((cx + dx) * 65536 + (cy + dy));
      if (!cell) continue;
      for (var k = 0; k < cell.length; k++) {
        var i = cell[k], d = (screenX[i] - x) * (screenX[i] - x) + (screenY[i] - y) * (screenY[i] - y);
        if (d < bd) { bd = d; best = i; }
      }
    }
    return best;
  }
  function label(id) {
    var i = A.ids.indexOf(id);
    if (i < 0) return null;
    var m = meta.get(id), alt = A.alt[i];
    var route = m === undefined ? '<span class="muted">looking up…</span>'
      : m.meta ? W.esc(m.meta.departure || '?') + ' → ' + W.esc(m.meta.arrival || '?')
      : '<span class="muted">' + W.esc(m.meta_error || 'no route') + '</span>';
    var airline = m && m.meta ? W.esc(m.meta.airline) + ' ' + W.esc(m.meta.flight_number) + ' · ' : '';
    return { i: i, html: '<b>' + W.esc(id) + '</b><br>' + airline + route + '<br>' +
             (alt >= 18000 ? 'FL' + Math.round(alt / 100) : fmt.format(alt) + ' ft') +
             ' · ' + fmt.format(A.spd[i]) + ' kt' + ' <span class="muted">· seq ' + A.seq[i] + '</span>' };
  }
  function showTip(id) {
    var tip = $('tip'), l = label(id);
    if (!l || screenX[l.i] !== screenX[l.i]) { tip.hidden = true; hover = null; return; }
    tip.innerHTML = l.html;
    tip.hidden = false;
    var size = map.getSize(), x = screenX[l.i] + 14, y = screenY[l.i] + 10;
    if (x + tip.offsetWidth > size.x) x = screenX[l.i] - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > size.y) y = screenY[l.i] - tip.offsetHeight - 10;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function lookup(id) {
    if (meta.has(id)) return;
    meta.set(id, undefined);
    fetch('api/flight?id=' + encodeURIComponent(id), { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (j) { meta.set(id, j); if (hover === id) showTip(id); })
      .catch(function () { meta.delete(id); });
  }
  map.on('mousemove', function (e) {
    var i = nearest(e.containerPoint.x, e.containerPoint.y);
    if (i === null) { hover = null; $('tip').hidden = true; return; }
    hover = A.ids[i];
    lookup(hover);
    showTip(hover);
  });
  map.on('mouseout', function () { hover = null; $('tip').hidden = true; });

  /* ---- start --------------------------------------------------------------------- */
  window.skyMap = {
    map: map,
    stats: function () {
      return JSON.parse(JSON.stringify(L.extend({}, stats, { view: viewKey(), zoom: map.getZoom() })));
    },
    drawnIds: function () {
      var out = [];
      for (var i = 0; i < A.n; i++) if (screenX[i] === screenX[i]) out.push(A.ids[i]);
      return out;
    },
    airspace: function (name) { return airByName[name] || null; },
    screenOf: function (id) {
      var i = A.ids.indexOf(id);
      return i < 0 || screenX[i] !== screenX[i] ? null : { x: screenX[i], y: screenY[i] };
    },
    poll: poll,
    ready: false
  };
  fetch('assets/countries-50m.json')
    .then(function (r) { return r.json(); })
    .then(function (topo) {
      W.addWorld(map, topo);
      window.skyMap.ready = true;
    })
    .catch(function (e) { setStatus('cannot draw the coastlines: ' + e.message); });
  loadAirspaces();
  setInterval(loadAirspaces, 15000);
  poll();
})();
