/* The report pages (report.html of run/verify, capacity.html of bench capacity):
 * everything is inline in one file, the data in <script id="sky-data">. Tables
 * are plain HTML; charts are uPlot; the tracks map is Leaflet over Natural Earth.
 * window.skyReport tells a test what was drawn. */
(function () {
  'use strict';
  var W = window.SkyWorld;
  var data = JSON.parse(document.getElementById('sky-data').textContent);
  var app = document.getElementById('app');
  var esc = W.esc;
  var fmt = new Intl.NumberFormat('en-US');
  var COLORS = ['#21c7ff', '#ffd60a', '#3ddc97', '#ff7a59', '#c08cff', '#ff9f1c', '#4d8dff', '#b5e61d'];
  var out = window.skyReport = { kind: data.kind, charts: 0, maps: 0, tracks: 0, checks: 0 };

  function el(tag, cls, html) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function section(title, note) {
    var s = el('section', 'card');
    s.appendChild(el('h2', null, esc(title) + (note ? ' <span class="note">' + note + '</span>' : '')));
    app.appendChild(s);
    return s;
  }
  function chartWidth(node) { return Math.max(480, Math.min(1180, node.clientWidth - 8)); }

  /* x = 1/(1-p): 1 -> "0%", 10 -> "90%", 100 -> "99%", 1000 -> "99.9%" ... */
  function pctLabel(x) {
    if (x == null) return '';
    if (x <= 1) return '0%';
    var p = 100 * (1 - 1 / x), digits = Math.max(0, Math.round(Math.log10(x)) - 2);
    return p.toFixed(digits) + '%';
  }
  function ms(v) { return v == null ? '' : v >= 100 ? fmt.format(Math.round(v)) : v >= 1 ? v.toFixed(1) : v.toFixed(3); }

  /* ---- run report ------------------------------------------------------------------ */
  function header(v) {
    var h = el('header', 'top');
    var pass = v.passed;
    h.innerHTML = '<div><div class="brand">skyload <span>run report</span></div>' +
      '<h1>' + esc(v.run_ids || 'run') + '</h1><div class="meta">topic <b>' + esc(v.topic) +
      '</b> · ' + fmt.format(v.flights) + ' flights · verified in ' + (v.elapsed_ms / 1000).toFixed(1) +
      ' s · generated ' + esc(data.generated) + ' by skyload ' + esc(data.version) + '</div></div>' +
      '<div class="badge ' + (pass ? 'pass' : 'fail') + '">' + (pass ? 'PASS' : 'FAIL') + '</div>';
    app.appendChild(h);
  }

  function checks(v) {
    var s = section('Checks', fmt.format(v.checks.length) + ' checks, ' +
                    v.checks.filter(function (c) { return c.status === 'fail'; }).length + ' failed');
    var t = el('table', 'checks');
    t.innerHTML = '<thead><tr><th>check</th><th>result</th><th>summary</th><th>counts</th></tr></thead>';
    var tb = el('tbody');
    v.checks.forEach(function (c) {
      var counts = Object.keys(c.counts).map(function (k) {
        return '<span class="chip">' + esc(k) + ' <b>' + fmt.format(c.counts[k]) + '</b></span>';
      }).join(' ');
      var tr = el('tr', c.status);
      tr.innerHTML = '<td class="name">' + esc(c.name) + '</td><td><span class="st ' + c.status + '">' +
        c.status.toUpperCase() + '</span></td><td>' + esc(c.summary) +
        (c.examples.length ? '<details><summary>' + fmt.format(c.problems) + ' problem' +
          (c.problems === 1 ? '' : 's') + (c.problems > c.examples.length ? ', first ' +
          c.examples.length : '') + '</summary><ul>' + c.examples.map(function (e) {
            return '<li><code>' + esc(e.flight_id || '-') + '</code>' + (e.seq >= 0 ? ' seq ' + e.seq : '') +
              (e.partition >= 0 ? ' p' + e.partition : '') + (e.offset >= 0 ? ' @' + e.offset : '') +
              ': ' + esc(e.detail) + '</li>';
          }).join('') + '</ul></details>' : '') + '</td><td class="counts">' + counts + '</td>';
      tb.appendChild(tr);
      out.checks++;
    });
    t.appendChild(tb);
    s.appendChild(t);
  }

  /* SLO as HdrHistogram draws it: a step down the percentiles, the lowest
   * threshold whose percentile is at or above x's. */
  function sloAt(slo, x) {
    var p = 100 * (1 - 1 / x), best = null;
    slo.forEach(function (t) {
      if (t.pct >= p - 1e-9 && (best === null || t.ms < best)) best = t.ms;
    });
    return best;
  }

  function latency(v) {
    var curves = data.curves || [];
    var s = section('Latency per stage', 'from the intended send time (no coordinated omission); ' +
                    'dashed: the SLO');
    if (!curves.length) { s.appendChild(el('p', 'muted', 'No latency samples in this run.')); return; }
    var xs = {};
    curves.forEach(function (c) { c.x.forEach(function (x) { xs[x] = 1; }); });
    var grid = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var cols = [grid], series = [{}];
    curves.forEach(function (c, i) {
      var at = {};
      c.x.forEach(function (x, k) { at[x] = Math.max(c.ms[k], 0.001); });
      /* a curve is a step function of x: carry the last value to the union grid */
      var last = null;
      cols.push(grid.map(function (x) {
        if (x in at) last = at[x];
        return x <= c.x[c.x.length - 1] ? last : null;
      }));
      series.push({ label: c.stage, stroke: COLORS[i % COLORS.length], width: 2,
                    paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
                    value: function (u, y) { return y === null ? '–' : ms(y) + ' ms'; } });
    });
    curves.forEach(function (c, i) {
      if (!c.slo.length) return;
      cols.push(grid.map(function (x) { return sloAt(c.slo, x); }));
      series.push({ label: 'SLO ' + c.stage, stroke: COLORS[i % COLORS.length], width: 1.5,
                    dash: [7, 5], paths: uPlot.paths.stepped({ align: 1 }), points: { show: false },
                    value: function (u, y) { return y === null ? '–' : '≤ ' + ms(y) + ' ms'; } });
    });
    var box = el('div', 'chart');
    s.appendChild(box);
    new uPlot({
      width: chartWidth(s), height: 380, series: series,
      scales: { x: { time: false, distr: 3, log: 10 }, y: { distr: 3, log: 10 } },
      axes: [
        { label: 'percentile', stroke: '#9fb6c6', grid: { stroke: '#1c2e3a' }, ticks: { stroke: '#1c2e3a' },
          values: function (u, splits) { return splits.map(pctLabel); } },
        { label: 'latency (ms)', stroke: '#9fb6c6', grid: { stroke: '#1c2e3a' }, ticks: { stroke: '#1c2e3a' },
          size: 60, values: function (u, splits) { return splits.map(function (v) { return ms(v); }); } }
      ],
      legend: { live: true },
      cursor: { points: { show: false } }
    }, cols, box);
    out.charts++;
    var t = el('table', 'lat');
    t.innerHTML = '<thead><tr><th>stage</th><th>source</th><th>count</th><th>p50</th><th>p90</th>' +
      '<th>p99</th><th>p99.9</th><th>max</th><th>SLO</th></tr></thead>';
    var tb = el('tbody');
    (v.latency || []).forEach(function (st) {
      if (!st.count) return;
      var names = ['p50', 'p90', 'p99', 'p99.9', 'max'];
      tb.appendChild(el('tr', null, '<td class="name">' + esc(st.stage) + '</td><td class="muted">' +
        esc(st.source) + '</td><td>' + fmt.format(st.count) + '</td>' + names.map(function (n) {
          var lim = st.slo_ms[n], val = st[n + '_ms'];
          return '<td class="' + (lim !== undefined ? (val <= lim ? 'ok' : 'bad') : '') + '">' + ms(val) + '</td>';
        }).join('') + '<td class="muted">' + Object.keys(st.slo_ms).map(function (k) {
          return esc(k) + ' ≤ ' + st.slo_ms[k] + ' ms';
        }).join(', ') + '</td>'));
    });
    t.appendChild(tb);
    s.appendChild(t);
  }

  /* Phase from the track itself (FlightData carries none): the vertical rate
   * between two positions, and the ground when low and slow. */
  var PHASES = [
    { key: 'ground', label: 'ground / taxi', color: '#9aa7b1' },
    { key: 'climb', label: 'climb', color: '#3ddc97' },
    { key: 'cruise', label: 'cruise', color: '#21c7ff' },
    { key: 'descent', label: 'descent / approach', color: '#ff9f1c' }
  ];
  function phase(a, b) {
    var dt = b[4] - a[4], fpm = dt > 0 ? (b[2] - a[2]) / dt * 60 : 0;
    if (b[2] < 100 && b[3] < 80) return 0;
    if (fpm > 300) return 1;
    if (fpm < -300) return 3;
    return 2;
  }

  function worldMap(node, height) {
    var div = el('div', 'map');
    div.style.height = height + 'px';
    node.appendChild(div);
    var map = L.map(div, { minZoom: 1, maxZoom: 10, zoomSnap: 0.25, worldCopyJump: false,
                           scrollWheelZoom: false, preferCanvas: true });
    map.attributionControl.setPrefix('Leaflet');
    map.attributionControl.addAttribution('Natural Earth via world-atlas');
    W.addWorld(map, JSON.parse(document.getElementById('sky-world').textContent), { gridStep: 30 });
    out.maps++;
    return map;
  }

  function tracks() {
    var tr = data.tracks;
    var note = tr ? fmt.format(tr.tracks.length) + ' sampled flights, positions read back from ' +
      esc(tr.source) + (tr.complete ? '' : ' (time budget reached: partial)') : '';
    var s = section('Tracks', note);
    if (!tr || !tr.tracks.length) {
      s.appendChild(el('p', 'muted', esc(data.tracks_error || 'No tracks: the run sent fewer than ' +
                                         'two positions for every sampled flight.')));
      return;
    }
    var legend = el('div', 'legend');
    legend.innerHTML = PHASES.map(function (p) {
      return '<span><i style="background:' + p.color + '"></i>' + esc(p.label) + '</span>';
    }).join('') + '<span class="muted">phase from the vertical rate between positions</span>';
    s.appendChild(legend);
    var map = worldMap(s, 520), bounds = L.latLngBounds([]), renderer = L.canvas({ padding: 0.5 });
    var heads = [];
    tr.tracks.forEach(function (t) {
      var pts = t.pts, run = [[pts[0][0], pts[0][1]]], cur = null;
      for (var i = 1; i < pts.length; i++) {
        var ph = phase(pts[i - 1], pts[i]);
        /* a jump across the antimeridian is not drawn as a line round the world */
        var jump = Math.abs(pts[i][1] - pts[i - 1][1]) > 180;
        if ((cur !== null && ph !== cur) || jump) {
          if (run.length > 1) L.polyline(run, { renderer: renderer, color: PHASES[cur].color, weight: 2,
                                                opacity: 0.9 }).bindTooltip(esc(t.id)).addTo(map);
          run = jump ? [] : [run[run.length - 1]];
        }
        cur = ph;
        run.push([pts[i][0], pts[i][1]]);
        bounds.extend([pts[i][0], pts[i][1]]);
      }
      if (run.length > 1) L.polyline(run, { renderer: renderer, color: PHASES[cur].color, weight: 2,
                                            opacity: 0.9 }).bindTooltip(esc(t.id)).addTo(map);
      heads.push({ a: pts[pts.length - 2], b: pts[pts.length - 1],
                   color: PHASES[phase(pts[pts.length - 2], pts[pts.length - 1])].color, id: t.id });
      out.tracks++;
    });
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.08), { maxZoom: 6 });
    else map.setView([20, 0], 1.5);
    /* Where each aircraft ended, pointing along its last leg: a short run's tracks
     * are a few kilometres, dots at world scale; the heads show where it went. */
    var HeadLayer = L.Layer.extend({
      onAdd: function (m) {
        this._c = L.DomUtil.create('canvas', 'heads');
        this._c.style.position = 'absolute';
        this._c.style.pointerEvents = 'none';
        m.getPanes().overlayPane.appendChild(this._c);
        m.on('moveend zoomend resize', this._draw, this);
        this._draw();
      },
      onRemove: function (m) { L.DomUtil.remove(this._c); m.off('moveend zoomend resize', this._draw, this); },
      _draw: function () {
        var m = this._map, size = m.getSize(), dpr = window.devicePixelRatio || 1;
        var topLeft = m.containerPointToLayerPoint([0, 0]);
        L.DomUtil.setPosition(this._c, topLeft);
        this._c.width = size.x * dpr;
        this._c.height = size.y * dpr;
        this._c.style.width = size.x + 'px';
        this._c.style.height = size.y + 'px';
        var g = this._c.getContext('2d');
        g.setTransform(dpr, 0, 0, dpr, 0, 0);
        heads.forEach(function (h) {
          /* unrounded projections: the last leg is often less than a pixel long */
          var pa = m.project([h.a[0], h.a[1]]), pb = m.project([h.b[0], h.b[1]]);
          var b = m.latLngToContainerPoint([h.b[0], h.b[1]]);
          var ang = Math.atan2(pb.y - pa.y, pb.x - pa.x), s = 6;
          g.save();
          g.translate(b.x, b.y);
          g.rotate(ang);
          g.beginPath();
          g.moveTo(s, 0);
          g.lineTo(-s * 0.8, s * 0.65);
          g.lineTo(-s * 0.4, 0);
          g.lineTo(-s * 0.8, -s * 0.65);
          g.closePath();
          g.fillStyle = h.color;
          g.fill();
          g.lineWidth = 0.8;
          g.strokeStyle = 'rgba(5, 12, 18, .9)';
          g.stroke();
          g.restore();
        });
        out.heads = heads.length;
      }
    });
    new HeadLayer().addTo(map);
  }

  /* ---- capacity report ------------------------------------------------------------- */
  function capacity() {
    var c = data.capacity, steps = c.steps || [];
    var h = el('header', 'top');
    var knee = c.knee !== null && c.knee !== undefined ? steps[c.knee] : null;
    h.innerHTML = '<div><div class="brand">skyload <span>bench capacity</span></div><h1>' +
      (knee ? 'knee: ' + fmt.format(knee.aircraft) + ' aircraft = ' + fmt.format(Math.round(knee.offered_msgs_s)) +
       ' msgs/s' : 'no step held the SLO') + '</h1><div class="meta">' + esc(c.scenario) + ' · cadence ' +
      c.cadence_ms + ' ms · stopped: ' + esc(c.stop_reason || '') + ' · generated ' + esc(data.generated) +
      '</div></div><div class="badge ' + (knee ? 'pass' : 'fail') + '">' + fmt.format(steps.length) + ' steps</div>';
    app.appendChild(h);
    var x = steps.map(function (s) { return s.offered_msgs_s; });
    function chart(title, note, series, cols, ylabel, ylog) {
      var s = section(title, note), box = el('div', 'chart');
      s.appendChild(box);
      new uPlot({
        width: chartWidth(s), height: 320, series: [{ label: 'offered msgs/s' }].concat(series),
        scales: { x: { time: false }, y: ylog ? { distr: 3, log: 10 } : {} },
        axes: [{ label: 'offered (msgs/s)', stroke: '#9fb6c6', grid: { stroke: '#1c2e3a' },
                 values: function (u, v) { return v.map(function (n) { return fmt.format(n); }); } },
               { label: ylabel, stroke: '#9fb6c6', grid: { stroke: '#1c2e3a' }, size: 64 }]
      }, [x].concat(cols), box);
      out.charts++;
    }
    var pt = { show: true, size: 7 };
    chart('Offered vs stored', 'per step; dashed: everything offered stored',
          [{ label: 'stored msgs/s', stroke: '#21c7ff', width: 2, points: pt },
           { label: 'produced msgs/s', stroke: '#ffd60a', width: 1.5, points: pt },
           { label: 'ideal', stroke: '#607d8b', dash: [6, 5], width: 1, points: { show: false } }],
          [steps.map(function (s) { return s.achieved_msgs_s; }),
           steps.map(function (s) { return s.produced_msgs_s; }), x], 'msgs/s');
    var slo = c.slo_us && c.slo_us.pg_commit_p99 ? c.slo_us.pg_commit_p99 / 1000 : null;
    chart('End-to-end p99', 'intended send → committed in PostgreSQL; dashed: the SLO',
          [{ label: 'e2e p99 (ms)', stroke: '#ff7a59', width: 2, points: pt },
           { label: 'kafka ack p99 (ms)', stroke: '#c08cff', width: 1.5, points: pt },
           { label: 'SLO p99', stroke: '#ff7a59', dash: [7, 5], width: 1, points: { show: false } }],
          [steps.map(function (s) { return s.pg_commit_us ? Math.max(s.pg_commit_us.p99 / 1000, 0.001) : null; }),
           steps.map(function (s) { return s.kafka_ack_us ? Math.max(s.kafka_ack_us.p99 / 1000, 0.001) : null; }),
           steps.map(function () { return slo; })], 'ms', true);
    var names = [];
    steps.forEach(function (s) { (s.procs || []).forEach(function (p) {
      if (names.indexOf(p.name) < 0) names.push(p.name); }); });
    chart('CPU per process', 'cores used during the hold phase of each step',
          names.map(function (n, i) { return { label: n, stroke: COLORS[i % COLORS.length], width: 2, points: pt }; }),
          names.map(function (n) { return steps.map(function (s) {
            var p = (s.procs || []).filter(function (q) { return q.name === n; })[0];
            return p ? p.cpu_cores : null; }); }), 'CPU cores');
    var s = section('Steps');
    var t = el('table', 'lat');
    t.innerHTML = '<thead><tr><th>#</th><th>aircraft</th><th>offered/s</th><th>stored/s</th>' +
      '<th>e2e p50</th><th>e2e p99</th><th>ack p99</th><th>lag max</th><th>verify</th><th>verdict</th></tr></thead>';
    var tb = el('tbody');
    steps.forEach(function (st, i) {
      var p = st.pg_commit_us || {}, k = st.kafka_ack_us || {};
      tb.appendChild(el('tr', i === c.knee ? 'knee' : '', '<td>' + (st.run !== undefined ? st.run : i) + '</td><td>' + fmt.format(st.aircraft) +
        '</td><td>' + fmt.format(Math.round(st.offered_msgs_s)) + '</td><td>' +
        fmt.format(Math.round(st.achieved_msgs_s)) + '</td><td>' + ms((p.p50 || 0) / 1000) + ' ms</td><td>' +
        ms((p.p99 || 0) / 1000) + ' ms</td><td>' + ms((k.p99 || 0) / 1000) + ' ms</td><td>' +
        fmt.format(st.lag ? st.lag.max : 0) + '</td><td>' + (st.verify_passed ? 'pass' : 'FAIL') +
        '</td><td><span class="st ' + (st.verdict === 'held' ? 'pass' : 'fail') + '">' + esc(st.verdict) +
        '</span></td>'));
    });
    t.appendChild(tb);
    s.appendChild(t);
  }

  try {
    if (data.kind === 'capacity') {
      document.title = 'skyload bench capacity';
      capacity();
    } else {
      header(data.verify);
      checks(data.verify);
      latency(data.verify);
      tracks();
    }
    out.ready = true;
  } catch (e) {
    out.error = String(e && e.stack || e);
    app.appendChild(el('pre', 'error', esc(out.error)));
    throw e;
  }
})();
