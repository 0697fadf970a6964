// Field page: reports go out at once when online, and wait in a queue (localStorage) when the connection is
// bad; the queue is sent again when the browser is back online or the page is opened. Nothing is lost: a
// report leaves the queue only when the server has confirmed it.
import { makeMap, setData, Popup, esc } from './common.js';

const KEY = 'stadslab.weesfietsen.wachtrij';
const queue = () => JSON.parse(localStorage.getItem(KEY) || '[]');
const save = (q) => localStorage.setItem(KEY, JSON.stringify(q));
const banner = document.getElementById('wachtrij');

function showQueue() {
  const n = queue().length;
  if (!banner) return;
  banner.hidden = n === 0;
  banner.textContent = n ? `${n} melding(en) nog niet verstuurd — wordt verstuurd zodra er verbinding is.` : '';
}

async function send(item) {
  const body = new URLSearchParams(item.fields);
  const r = await fetch('/weesfietsen/veld/melding', { method: 'POST', body, credentials: 'same-origin',
    headers: { Accept: 'application/json' } });
  if (r.status >= 500 || r.status === 0) throw new Error('server');
  const res = await r.json().catch(() => ({}));
  return { ok: r.ok, res };
}

function mark(ref, text, ok) {
  const li = document.querySelector(`.wv-stop[data-ref="${CSS.escape(ref)}"]`);
  if (!li) return;
  li.querySelector('.wv-status').textContent = text;
  if (ok) li.classList.add('wv-stop--klaar');
}

async function flush() {
  let q = queue();
  const rest = [];
  for (const item of q) {
    try {
      const { ok, res } = await send(item);
      mark(item.fields.stop, ok ? `Gemeld: ${item.label} (verstuurd)` : `Niet aangenomen: ${res.fout || res.detail || 'fout'}`, ok);
    } catch (e) {
      rest.push(item);
    }
  }
  save(rest);
  showQueue();
}

document.querySelectorAll('.wv-form').forEach((form) => {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fields = Object.fromEntries(new FormData(form).entries());
    fields.status = ev.submitter.value;
    fields.gemeld_om = new Date().toISOString();
    if (fields.status !== 'niets' && fields.aantal === '') {
      mark(fields.stop, 'Vul eerst het aantal in.', false);
      return;
    }
    if (fields.status === 'niets') delete fields.aantal;
    const label = fields.status === 'niets' ? 'niets aangetroffen' : `${fields.status} ${fields.aantal}`;
    save([...queue(), { fields, label }]);
    mark(fields.stop, `In de wachtrij: ${label}`, false);
    showQueue();
    await flush();
  });
});

window.addEventListener('online', flush);
showQueue();
if (navigator.onLine) flush();

const el = document.getElementById('wv-kaart');
const stops = JSON.parse(document.getElementById('wv-data')?.textContent || '[]');
if (el && stops.length) {
  const lons = stops.map((s) => s.lon), lats = stops.map((s) => s.lat);
  makeMap(el, [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], { zoek: false, naam: 'veld' })
    .then((map) => {
      setData(map, 'lijn', { type: 'Feature', geometry: { type: 'LineString', coordinates: stops.map((s) => [s.lon, s.lat]) } });
      map.addLayer({ id: 'lijn', type: 'line', source: 'lijn', paint: { 'line-color': '#01689b', 'line-width': 2, 'line-opacity': 0.6 } });
      setData(map, 'stops', { type: 'FeatureCollection', features: stops.map((s) => ({ type: 'Feature',
        geometry: { type: 'Point', coordinates: [s.lon, s.lat] }, properties: { nr: s.order, soort: s.kind, cel: s.locatie } })) });
      map.addLayer({ id: 'stops', type: 'circle', source: 'stops', paint: { 'circle-radius': 7,
        'circle-color': ['match', ['get', 'soort'], 'hercontrole', '#8a4b00', '#01689b'], 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } });
      map.addLayer({ id: 'nrs', type: 'symbol', source: 'stops', layout: { 'text-field': ['to-string', ['get', 'nr']], 'text-size': 10, 'text-offset': [0, -1.2] } });
      map.on('click', 'stops', (e) => {
        const p = e.features[0].properties;
        new Popup().setLngLat(e.lngLat).setHTML(`<strong>${esc(p.nr)}</strong> ${esc(p.soort)} · ${esc(p.cel)}`).addTo(map);
      });
    }).catch(() => { el.textContent = 'Kaart niet beschikbaar; de lijst hieronder werkt zonder kaart.'; });
}
