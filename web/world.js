/* The world under the traffic, shared by the live map and the report pages:
 * Natural Earth's countries (world-atlas TopoJSON, through topojson-client) as
 * land, coastlines and borders on a Leaflet canvas, plus a faint graticule.
 * No tile server: the whole basemap is this one file of vectors. */
(function (global) {
  'use strict';

  var THEME = {
    ocean: '#0b1822',
    land: '#17252f',
    coast: '#4b6a80',
    border: '#2d4454',
    grid: '#13232f'
  };

  function graticule(step) {
    var lines = [];
    for (var lon = -180; lon <= 180; lon += step) {
      var meridian = [];
      for (var lat = -85; lat <= 85; lat += 5) meridian.push([lon, lat]);
      lines.push(meridian);
    }
    for (var la = -75; la <= 75; la += step) {
      var parallel = [];
      for (var lo = -180; lo <= 180; lo += 5) parallel.push([lo, la]);
      lines.push(parallel);
    }
    return { type: 'MultiLineString', coordinates: lines };
  }

  /* TopoJSON rings and lines that cross the antimeridian jump from +180 to -180;
   * drawn flat, that jump is a stripe across the world. Longitudes are made
   * continuous instead (Chukotka at 190), a ring around a pole is closed along
   * it, and whatever reaches past +-180 is drawn a second time one world over. */
  function unwrap(line, closeAtPole) {
    var out = [], shift = 0;
    for (var i = 0; i < line.length; i++) {
      var lon = line[i][0] + shift;
      if (i > 0) {
        var d = lon - out[i - 1][0];
        if (d > 180) { shift -= 360; lon -= 360; } else if (d < -180) { shift += 360; lon += 360; }
      }
      out.push([lon, line[i][1]]);
    }
    if (closeAtPole && out.length && Math.abs(out[out.length - 1][0] - out[0][0]) > 180) {
      var pole = out[0][1] < 0 ? -89.9 : 89.9, last = out[out.length - 1][0];
      out.push([last, pole], [out[0][0], pole], out[0]);
    }
    return out;
  }
  function withCopies(parts) {
    var out = [];
    parts.forEach(function (p) {
      out.push(p);
      var flat = p.length && Array.isArray(p[0][0]) ? p[0] : p;
      var min = Infinity, max = -Infinity;
      flat.forEach(function (c) { min = Math.min(min, c[0]); max = Math.max(max, c[0]); });
      var shiftBy = function (d) {
        var move = function (c) { return [c[0] + d, c[1]]; };
        return p.length && Array.isArray(p[0][0]) ? p.map(function (r) { return r.map(move); })
                                                   : p.map(move);
      };
      if (max > 180) out.push(shiftBy(-360));
      if (min < -180) out.push(shiftBy(360));
    });
    return out;
  }
  function fixPolygons(geom) {
    var polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
    return { type: 'MultiPolygon', coordinates: withCopies(polys.map(function (poly) {
      return poly.map(function (ring) { return unwrap(ring, true); });
    })) };
  }
  function fixLines(geom) {
    var lines = geom.type === 'LineString' ? [geom.coordinates] : geom.coordinates;
    return { type: 'MultiLineString', coordinates: withCopies(lines.map(function (l) {
      return unwrap(l, false);
    })) };
  }

  /* Adds land, borders, coastlines and a graticule to map; returns the layers.
   * topology: a world-atlas countries-*.json object. */
  function addWorld(map, topology, options) {
    options = options || {};
    var renderer = L.canvas({ padding: 0.5 });
    var countries = topology.objects.countries;
    var land = fixPolygons(topojson.merge(topology, countries.geometries));
    var borders = fixLines(topojson.mesh(topology, countries, function (a, b) { return a !== b; }));
    var coast = fixLines(topojson.mesh(topology, countries, function (a, b) { return a === b; }));
    map.getContainer().style.background = THEME.ocean;
    var layers = {
      grid: L.geoJSON(graticule(options.gridStep || 15), {
        renderer: renderer, interactive: false,
        style: { color: THEME.grid, weight: 1, opacity: 1 }
      }),
      land: L.geoJSON(land, {
        renderer: renderer, interactive: false,
        style: { stroke: false, fillColor: THEME.land, fillOpacity: 1 }
      }),
      borders: L.geoJSON(borders, {
        renderer: renderer, interactive: false,
        style: { color: THEME.border, weight: 0.8, opacity: 1 }
      }),
      coast: L.geoJSON(coast, {
        renderer: renderer, interactive: false,
        style: { color: THEME.coast, weight: 1, opacity: 1 }
      })
    };
    ['grid', 'land', 'borders', 'coast'].forEach(function (k) { layers[k].addTo(map); });
    return layers;
  }

  /* Colour of an altitude in feet: warm near the ground, cool at cruise. */
  var ALT_STOPS = [
    [1000, '#ff9f1c'], [5000, '#ffd60a'], [10000, '#b5e61d'], [20000, '#3ddc97'],
    [30000, '#21c7ff'], [36000, '#4d8dff'], [Infinity, '#c08cff']
  ];
  function altitudeBucket(ft) {
    for (var i = 0; i < ALT_STOPS.length; i++) if (ft < ALT_STOPS[i][0]) return i;
    return ALT_STOPS.length - 1;
  }

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  global.SkyWorld = {
    THEME: THEME, addWorld: addWorld, ALT_STOPS: ALT_STOPS,
    altitudeBucket: altitudeBucket, esc: esc
  };
})(window);
