// Containermonitor: containers coloured by fill level or predicted days to 80 %, refreshed by polling (15 s).
import { makeMap, setData, getJSON, nl, esc, setBron, Popup } from './common.js';

const boot = JSON.parse(document.getElementById('containers-data').textContent);
const q = `?dataset=${encodeURIComponent(boot.dataset)}`;
const FILL = [[0, '#1a9850'], [50, '#a6d96a'], [70, '#fee08b'], [80, '#fc8d59'], [95, '#d73027']];
const DAYS = [[0, '#d73027'], [1, '#fc8d59'], [2, '#fee08b'], [4, '#a6d96a'], [7, '#1a9850']];
let map; let kleur = 'vulgraad'; let rounds = 0;

function colourExpr(prop, stops) {
  const step = ['step', ['to-number', ['get', prop]], stops[0][1]];
  stops.slice(1).forEach(([b, c]) => step.push(b, c));
  return ['case', ['==', ['get', prop], null], '#bdbdbd', step];
}
function legend() {
  const stops = kleur === 'vulgraad' ? FILL : DAYS;
  const unit = kleur === 'vulgraad' ? '%' : 'dagen';
  document.getElementById('legenda').innerHTML = `<strong>${kleur === 'vulgraad' ? 'Vulgraad nu' : 'Voorspelde dagen tot 80 %'}</strong><ul>` +
    stops.map(([b, c], i) => `<li><span class="vlak" style="background:${c}"></span>${i + 1 < stops.length ? `${nl(b)}–${nl(stops[i + 1][0])}` : `≥ ${nl(b)}`} ${unit}</li>`).join('') +
    '<li><span class="vlak" style="background:#bdbdbd"></span>onbekend</li></ul>';
}
function paint() {
  map.setPaintProperty('containers', 'circle-color', colourExpr(kleur, kleur === 'vulgraad' ? FILL : DAYS));
  legend();
}
const row = (cells) => `<tr>${cells.join('')}</tr>`;
const td = (v, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${v}</td>`;

async function refresh() {
  const [fc, ov] = await Promise.all([getJSON('/api/containers/kaart.geojson' + q), getJSON('/api/containers' + q)]);
  setData(map, 'containers', fc);
  if (!map.getLayer('containers')) {
    map.addLayer({ id: 'containers', type: 'circle', source: 'containers',
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 2.5, 15, 7], 'circle-stroke-width': ['case', ['get', 'overloop'], 1.5, 0], 'circle-stroke-color': '#000' } });
    paint();
    const popup = new Popup({ closeButton: true });
    map.on('click', 'containers', (e) => {
      const p = e.features[0].properties;
      popup.setLngLat(e.lngLat).setHTML(`<strong>${esc(p.id)}</strong> · ${esc(p.fractie)}<br>${esc(p.buurt)}<br>Vulgraad ${nl(+p.vulgraad, 1)} %<br>Dagen tot 80 %: ${p.dagen_tot_vol === 'null' || p.dagen_tot_vol == null ? '–' : nl(+p.dagen_tot_vol, 1)}`).addTo(map);
    });
  }
  document.getElementById('metingen').textContent = nl(ov.metingen);
  document.getElementById('laatste').textContent = ov.laatste_ontvangst ? 'laatste ' + new Date(ov.laatste_ontvangst).toLocaleTimeString('nl-NL') : '';
  document.getElementById('n-overloop').textContent = ov.voorspelling_klaar ? nl(ov.n_overloop) : 'wordt berekend';
  document.getElementById('n-storing').textContent = nl(ov.verouderd + ov.vast);
  document.getElementById('storing-sub').textContent = `${nl(ov.verouderd)} verouderd · ${nl(ov.vast)} vast`;
  document.getElementById('afgekeurd').textContent = nl(ov.afgekeurd);
  document.getElementById('redenen').textContent = Object.entries(ov.redenen).map(([k, v]) => `${k}: ${nl(v)}`).join(' · ') || 'dead letters';
  document.querySelector('#fracties tbody').innerHTML = ov.per_fractie.map((r) => row([`<th scope="row">${esc(r.afvalfractie)}</th>`, td(nl(r.containers), 'getal'), td(nl(r.gem_vulgraad, 1) + ' %', 'getal'), td(nl(r.boven_80), 'getal'), td(nl(r.overloop), 'getal')])).join('');
  document.querySelector('#overloop tbody').innerHTML = ov.overloop.map((r) => row([td(esc(r.container_id)), td(esc(r.afvalfractie)), td(esc(r.buurt)), td(nl(r.vulgraad, 1) + ' %', 'getal'), td(nl(r.dagen_tot_vol, 1), 'getal'), td(nl(r.uren_tot_bezoek, 0), 'getal')])).join('') || '<tr><td colspan="6">Geen (of de voorspelling wordt nog berekend).</td></tr>';
  document.querySelector('#storingen tbody').innerHTML = ov.storingen.map((r) => row([td(esc(r.container_id)), td(esc(r.afvalfractie)), td(esc(r.buurt)), td(r.tijd ? new Date(r.tijd).toLocaleString('nl-NL') : 'nooit'), td([r.verouderd ? 'verouderd' : '', r.vast ? 'vast' : ''].filter(Boolean).join(', '))])).join('') || '<tr><td colspan="5">Geen.</td></tr>';
  const t = ov.toets;
  const el = document.getElementById('toets');
  if (t && t.n) {
    el.className = 'melding' + (t.model_beter ? '' : ' melding--waarschuwing');
    el.innerHTML = `<strong>${esc(t.oordeel)}</strong><br>Tijd tot ${nl(t.drempel)} %: gemiddelde fout model ${nl(t.mae_model_uur, 1)} uur, naïef (snelheid van de laatste 24 uur) ${nl(t.mae_naief_uur, 1)} uur, over ${nl(t.n)} voorspellingen op ${nl(t.oorsprongen)} momenten. ${nl(t.n_gezien)} containers haalden de drempel vóór ze geleegd werden; voor de andere telt alleen de fout die zeker is (te vroeg voorspeld). Van de containers die de drempel haalden viel ${nl(100 * t.dekking_interval, 0)} % in het 80 %-interval.`;
  } else if (t) { el.textContent = t.oordeel; }
  setBron(document.getElementById('bron-kaart'), fc.bron, 'bron-kaart-details');
  setBron(document.getElementById('bron-overzicht'), ov.bron, 'bron-overzicht-details');
  rounds += 1;
  document.getElementById('live').textContent = `Bijgewerkt ${new Date().toLocaleTimeString('nl-NL')}`;
  document.body.dataset.rondes = String(rounds);
  document.body.dataset.metingen = String(ov.metingen);
}

(async () => {
  map = await makeMap('kaart', [4.18, 52.02, 4.42, 52.13]);
  document.querySelectorAll('input[name=kleur]').forEach((r) => r.addEventListener('change', () => { kleur = r.value; if (map.getLayer('containers')) paint(); }));
  const tick = async () => { try { await refresh(); } catch (e) { document.getElementById('live').textContent = 'Verversen mislukt: ' + e.message; } };
  await tick();
  const every = Math.max(2, Number(new URLSearchParams(location.search).get('ververs')) || 15);   // seconds
  setInterval(tick, every * 1000);
})();
