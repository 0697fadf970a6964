// Driver page: the route on the shared map, and "geleegd" / "niet bereikbaar" sent without a page reload
// (the plain form POST keeps working without JavaScript).
import { makeMap, setData, getJSON, Popup, esc } from './common.js';

const el = document.getElementById('rt-kaart');

async function drawMap() {
  const data = await getJSON(el.dataset.json);
  const pts = data.stops.filter((s) => s.lon !== null && s.lat !== null);
  if (!pts.length) return;
  const lons = pts.map((s) => s.lon), lats = pts.map((s) => s.lat);
  const bbox = [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
  const map = await makeMap(el, bbox, { zoek: false, naam: 'route' });
  setData(map, 'lijn', { type: 'Feature', geometry: { type: 'LineString', coordinates: pts.map((s) => [s.lon, s.lat]) } });
  map.addLayer({ id: 'lijn', type: 'line', source: 'lijn', paint: { 'line-color': '#01689b', 'line-width': 2, 'line-opacity': 0.6 } });
  const feats = pts.map((s) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [s.lon, s.lat] },
    properties: { ref: s.ref, nr: s.nr ?? '', soort: s.soort, status: s.status ? s.status.status : '' } }));
  setData(map, 'stops', { type: 'FeatureCollection', features: feats });
  map.addLayer({ id: 'stops', type: 'circle', source: 'stops', paint: {
    'circle-radius': ['case', ['==', ['get', 'soort'], 'stop'], 7, 9],
    'circle-color': ['match', ['get', 'status'], 'geleegd', '#1e6b32', 'niet_bereikbaar', '#e17000',
      ['case', ['==', ['get', 'soort'], 'stop'], '#01689b', '#333333']],
    'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
  map.addLayer({ id: 'nrs', type: 'symbol', source: 'stops', layout: { 'text-field': ['to-string', ['get', 'nr']], 'text-size': 10, 'text-offset': [0, -1.2] } });
  map.on('click', 'stops', (e) => {
    const p = e.features[0].properties;
    new Popup().setLngLat(e.lngLat).setHTML(`<strong>${esc(p.nr)} ${esc(p.ref)}</strong>`).addTo(map);
    const li = document.getElementById('stop-' + p.ref);
    if (li) li.scrollIntoView({ behavior: 'smooth', block: 'center' });
  });
  window.__routeMap = map;
}

function markInMap(ref, status) {
  const map = window.__routeMap;
  const src = map && map.getSource('stops');
  if (!src) return;
  const data = src._data || src.serialize().data;
  if (!data || !data.features) return;
  data.features.forEach((f) => { if (f.properties.ref === ref) f.properties.status = status; });
  src.setData(data);
}

document.querySelectorAll('.rt-knoppen').forEach((form) => {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const button = ev.submitter;
    const body = new FormData(form);
    body.set('status', button.value);
    const li = form.closest('.rt-stop');
    const out = li.querySelector('.rt-status');
    form.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    try {
      const r = await fetch(form.action, { method: 'POST', body, credentials: 'same-origin', headers: { Accept: 'application/json' } });
      const res = await r.json();
      if (!r.ok) throw new Error(res.fout || r.statusText);
      li.classList.remove('rt-stop--geleegd', 'rt-stop--niet_bereikbaar');
      li.classList.add('rt-stop--' + res.status);
      const t = new Date(res.tijd);
      out.textContent = `${res.status.replace('_', ' ')} om ${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')} (opgeslagen)`;
      markInMap(res.stop, res.status);
      const done = document.querySelectorAll('.rt-stop--geleegd, .rt-stop--niet_bereikbaar').length;
      const prog = document.getElementById('voortgang');
      prog.textContent = prog.textContent.replace(/^\d+/, String(done));
    } catch (err) {
      out.textContent = 'Niet opgeslagen: ' + err.message + ' — probeer opnieuw.';
    } finally {
      form.querySelectorAll('button').forEach((b) => { b.disabled = false; });
    }
  });
});

drawMap().catch((err) => { el.textContent = 'Kaart niet beschikbaar: ' + err.message; });
