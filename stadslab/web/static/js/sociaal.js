// Dashboard sociaal domein: the profile per wijk/buurt on the shared map (counts; suppressed cells grey and
// named "onderdrukt", never 0) and the trend per school year (Vega-Lite). All figures are gated aggregates
// the server released; this script only draws them. GESIMULEERD.
import { makeMap, setData, getJSON, countColourExpr, quantileBreaks, Popup, esc, nl, embed } from './common.js';

const boot = JSON.parse(document.getElementById('ddd-data')?.textContent || '{}');

function bboxOf(geo) {
  let w = 180, s = 90, e = -180, n = -90;
  const walk = (c) => { if (typeof c[0] === 'number') { w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]); } else c.forEach(walk); };
  geo.features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
  return w <= e ? [w, s, e, n] : null;
}

async function drawMap() {
  const k = boot.kaart;
  const el = document.getElementById('kaart');
  if (!k || !el) return;
  const q = new URLSearchParams({ niveau: k.niveau, jaar: k.jaar });
  if (k.wijk && k.niveau === 'buurt') q.set('wijk', k.wijk);
  const geo = await getJSON(`/api/gebieden.geojson?${q}`);
  const byCode = Object.fromEntries((k.rijen || []).map((r) => [r.code, r]));
  // only areas the user may see are coloured; a partner's wijk view shows its own wijk (or its buurten)
  geo.features = geo.features.filter((f) => byCode[f.properties.code] || (!k.wijk));
  geo.features.forEach((f) => {
    const r = byCode[f.properties.code];
    f.properties.n = r && !r.onderdrukt ? r.n : null;
    f.properties.onderdrukt = !!(r && r.onderdrukt);
    f.properties.aandeel = r && !r.onderdrukt ? r.aandeel : null;
  });
  const map = await makeMap(el, bboxOf(geo), { naam: 'sociaal' });
  setData(map, 'profiel', geo);
  const breaks = quantileBreaks(geo.features.map((f) => f.properties.n));
  map.addLayer({ id: 'vlakken', type: 'fill', source: 'profiel', paint: { 'fill-color': countColourExpr('n', breaks), 'fill-opacity': 0.85 } });
  map.addLayer({ id: 'lijnen', type: 'line', source: 'profiel', paint: { 'line-color': '#333', 'line-width': 0.8 } });
  const popup = new Popup({ closeButton: false, closeOnClick: false });
  map.on('mousemove', 'vlakken', (e) => {
    const p = e.features[0].properties;
    const n = p.n === null || p.n === undefined || p.n === 'null' ? null : +p.n;
    const txt = p.onderdrukt === true || p.onderdrukt === 'true' ? 'onderdrukt' : (n === null ? 'geen gegevens' : nl(n) + ' leerlingen');
    popup.setLngLat(e.lngLat).setHTML(`<strong>${esc(p.naam)}</strong><br>${txt}<br><em>gesimuleerd</em>`).addTo(map);
  });
  map.on('mouseleave', 'vlakken', () => popup.remove());
  map.once('idle', () => { document.body.dataset.kaartKlaar = '1'; });
}

function drawTrend() {
  const el = document.getElementById('grafiek-trend');
  if (!el) return;
  const col = boot.niveau;
  const count = (r) => (r.aantal !== undefined ? r.aantal : r.n);
  const vals = (boot.trend || []).filter((r) => count(r) !== null && count(r) !== undefined && r.schooljaar)
    .map((r) => ({ schooljaar: String(r.schooljaar), n: +count(r), gebied: String(r[col] ?? 'Totaal') }));
  if (!vals.length) { el.textContent = 'Geen gepubliceerde cijfers per schooljaar (onderdrukt of geen gegevens).'; return; }
  const lines = new Set(vals.map((v) => v.gebied)).size;
  embed(el, {
    width: 'container', height: 220, data: { values: vals },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'schooljaar', type: 'ordinal', title: 'schooljaar' },
      y: { field: 'n', type: 'quantitative', title: 'leerlingen in het profiel' },
      ...(lines > 1 ? { color: { field: 'gebied', type: 'nominal', title: null, legend: lines <= 12 ? {} : null } } : {}),
      tooltip: [{ field: 'gebied' }, { field: 'schooljaar' }, { field: 'n', format: ',d' }],
    },
  });
}

drawMap().catch((e) => { const el = document.getElementById('kaart'); if (el) el.textContent = 'Kaart niet beschikbaar: ' + e.message; });
drawTrend();
