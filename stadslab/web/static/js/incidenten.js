// Incidentenkaart: filters → API → map layers (buurten, 125 m hotspots, points, heat), table, charts, Bron.
import { makeMap, fit, setData, getJSON, nl, nlSigned, pText, esc, quantileBreaks, countColourExpr, COUNT_COLOURS, MISSING, setBron, embed, Popup } from './common.js';

const boot = JSON.parse(document.getElementById('incident-data').textContent);
const form = document.getElementById('filters');
const api = `/api/incidenten/${encodeURIComponent(boot.dataset)}`;
let map; let last = null; let seq = 0;
if (window.matchMedia('(max-width: 1000px)').matches) document.getElementById('filters-uitklap').open = false;  // map first on a phone
const mapReady = makeMap('kaart', boot.bbox).then((m) => { map = m; addLayers(); return m; });  // starts with the data fetch

function query() {
  const p = new URLSearchParams();
  for (const [k, v] of new FormData(form).entries()) if (k !== 'dataset' && v !== '') p.append(k, v);
  if (p.get('periode') !== 'aangepast') { p.delete('van'); p.delete('tot'); }
  return p.toString();
}

function colourMode() { return document.querySelector('input[name=kleur]:checked').value; }

function paintBuurten() {
  if (!map || !last) return;
  const mode = colourMode();
  const vals = last.buurten.features.map((f) => f.properties[mode === 'per_1000' ? 'per_1000' : 'aantal']);
  const breaks = quantileBreaks(vals);
  const colour = mode === 'geen' ? 'rgba(0,0,0,0)' : countColourExpr(mode, breaks);
  map.setPaintProperty('buurt-vlak', 'fill-color', colour);
  const el = document.getElementById('legenda');
  if (mode === 'geen') { el.innerHTML = legendHot(); return; }
  const labels = [];
  if (mode === 'aantal') {
    let lo = 1;
    breaks.forEach((b) => { labels.push(lo >= b ? nl(b) : `${nl(lo)}–${nl(b)}`); lo = b + 1; });
  } else {
    let lo = 0;
    breaks.forEach((b) => { labels.push(`${nl(lo, 1)}–${nl(b, 1)}`); lo = b; });
  }
  const allMissing = vals.every((v) => v === null || v === undefined);
  el.innerHTML = `<strong>${mode === 'aantal' ? 'Aantal incidenten per buurt' : 'Incidenten per 1.000 inwoners'}</strong><ul>` +
    `<li><span class="vlak" style="background:${COUNT_COLOURS[0]}"></span>0</li>` +
    labels.map((l, i) => `<li><span class="vlak" style="background:${COUNT_COLOURS[Math.min(i + 1, COUNT_COLOURS.length - 1)]}"></span>${l}</li>`).join('') +
    `<li><span class="vlak" style="background:${MISSING}"></span>onbekend${allMissing ? ' (geen inwonertal)' : ''}</li></ul>` + legendHot();
}
function legendHot() {
  return '<ul><li><span class="vlak" style="background:#7b1fa2"></span>hotspot 125 m-vak</li><li><span class="vlak" style="background:#2b83ba"></span>coldspot 125 m-vak</li>' +
    '<li><span class="vlak" style="background:#fff;border:3px solid #000"></span>hotspot-buurt (Gi*, FDR 5%)</li><li><span class="vlak" style="background:#222;border-radius:50%"></span>incident</li></ul>';
}

function toggles() {
  if (!map) return;
  const vis = (id, on) => map.getLayer(id) && map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  vis('punt', document.getElementById('laag-punten').checked);
  vis('warmte', document.getElementById('laag-warmte').checked);
  const hs = document.getElementById('laag-hotspots').checked;
  vis('raster-hot', hs); vis('raster-cold', hs);
}

function toetsTekst(t) {
  if (t.p === null || t.p === undefined) return `<span>${esc(t.label)}</span>`;
  const cls = t.label === 'significant gestegen' ? 'signif-up' : (t.label === 'significant gedaald' ? 'signif-down' : '');
  return `<span class="${cls}">${esc(t.label)}</span> (${pText(t.p)})`;
}

function table(rows) {
  const tb = document.querySelector('#buurten-tabel tbody');
  tb.innerHTML = rows.map((r) => `<tr data-code="${esc(r.code)}"><th scope="row">${esc(r.naam)}</th><td>${esc(r.wijk)}</td>` +
    `<td class="getal">${nl(r.aantal)}</td><td class="getal">${nl(r.vorige_periode)}</td><td class="getal">${nlSigned(r.verandering)}</td>` +
    `<td>${r.aantal + r.vorige_periode > 0 ? toetsTekst({ label: r.verandering_label, p: r.p_verandering }) : '–'}</td>` +
    `<td class="getal">${r.per_1000 === null ? '<span class="ontbreekt" title="geen inwonertal bekend">onbekend</span>' : nl(r.per_1000, 1)}</td>` +
    `<td>${r.hotspot ? esc(r.hotspot) : ''}</td></tr>`).join('');
}

function charts(s) {
  const bar = (el, vals, sort) => embed(document.getElementById(el), {
    width: 'container', height: 160, data: { values: vals }, mark: { type: 'bar', color: '#c8102e' },
    encoding: { x: { field: 'waarde', type: 'nominal', sort, title: null, axis: { labelAngle: 0 } },
      y: { field: 'aantal', type: 'quantitative', title: 'incidenten' }, tooltip: [{ field: 'waarde' }, { field: 'aantal' }] },
  });
  bar('grafiek-dagdeel', s.per_dagdeel, null);
  bar('grafiek-dag', s.per_dag, null);
}

async function update() {
  const q = query();
  const mine = ++seq;
  document.body.dataset.bezig = '1';
  try {
    const [s, buurten, raster, punten] = await Promise.all([
      getJSON(`${api}/samenvatting?${q}`), getJSON(`${api}/buurten.geojson?${q}`),
      getJSON(`${api}/raster.geojson?${q}`),
      boot.heeft_punten ? getJSON(`${api}/punten.geojson?${q}`) : Promise.resolve({ type: 'FeatureCollection', features: [] }),
    ]);
    if (mine !== seq) return;
    last = { s, buurten };
    const t = s.totaal;
    document.getElementById('totaal').textContent = nl(t.aantal);
    document.getElementById('vorig').textContent = nl(t.vorige_periode);
    document.getElementById('verandering').textContent = nlSigned(t.verandering);
    document.getElementById('verandering-toets').innerHTML = toetsTekst(t);
    document.getElementById('periode-tekst').textContent = `${s.periode.label}: ${s.periode.van} t/m ${s.periode.tot_en_met}`;
    document.getElementById('vorige-periode-tekst').textContent = `${s.periode.vorige_van} t/m ${s.periode.vorige_tot_en_met}`;
    document.getElementById('hotspots').textContent = `${s.hotspots_buurt} · ${s.hotspots_raster}`;
    const noot = document.getElementById('noot-inwoners');
    noot.hidden = s.heeft_inwoners;
    noot.textContent = s.heeft_inwoners ? '' : (s.opmerkingen.find((n) => n.startsWith('Per 1.000')) || '');
    const nootRaster = document.getElementById('noot-raster');
    nootRaster.hidden = !raster.let_op;
    nootRaster.textContent = raster.let_op || '';
    const rows = buurten.features.map((f) => ({ code: f.id, naam: f.properties.naam, ...f.properties }));
    table(rows);
    setBron(document.getElementById('bron-kaart'), s.bron, 'bron-kaart-details');
    setBron(document.getElementById('bron-tabel'), s.bron, 'bron-tabel-details');
    setBron(document.getElementById('bron-grafiek'), s.bron, 'bron-grafiek-details');
    document.getElementById('downloads').innerHTML = `Download: <a href="${api}/tabel?${q}&format=csv">CSV</a> · ` +
      `<a href="${api}/buurten.geojson?${q}">GeoJSON buurten</a> · <a href="${api}/raster.geojson?${q}">GeoJSON 125 m</a>`;
    await mapReady;
    fit(map, buurten.bbox);
    setData(map, 'buurten', buurten); setData(map, 'raster', raster); setData(map, 'punten', punten);
    paintBuurten(); toggles();
    history.replaceState(null, '', `/incidenten?dataset=${encodeURIComponent(boot.dataset)}&${q}`);
    map.once('idle', () => { document.body.dataset.kaartKlaarMs = String(Math.round(performance.now())); document.body.dataset.kaartKlaar = '1'; });
    map.triggerRepaint();
    document.body.dataset.bijgewerkt = q;
    charts(s);
  } catch (e) {
    document.getElementById('legenda').innerHTML = `<p class="melding melding--fout" role="alert">${esc(e.message)}</p>`;
  } finally {
    if (mine === seq) delete document.body.dataset.bezig;
  }
}

function addLayers() {
  const empty = { type: 'FeatureCollection', features: [] };
  ['buurten', 'raster', 'punten'].forEach((s) => setData(map, s, empty));
  map.addLayer({ id: 'buurt-vlak', type: 'fill', source: 'buurten', paint: { 'fill-color': '#fff', 'fill-opacity': 0.8 } });
  map.addLayer({ id: 'buurt-lijn', type: 'line', source: 'buurten', paint: { 'line-color': '#555', 'line-width': 0.7 } });
  map.addLayer({ id: 'raster-cold', type: 'fill', source: 'raster', filter: ['==', ['get', 'hotspot'], 'coldspot'], paint: { 'fill-color': '#2b83ba', 'fill-opacity': 0.6 } });
  map.addLayer({ id: 'raster-hot', type: 'fill', source: 'raster', filter: ['==', ['get', 'hotspot'], 'hotspot'], paint: { 'fill-color': '#7b1fa2', 'fill-opacity': 0.75 } });
  map.addLayer({ id: 'buurt-hot', type: 'line', source: 'buurten', filter: ['==', ['get', 'hotspot'], 'hotspot'], paint: { 'line-color': '#000', 'line-width': 3 } });
  map.addLayer({ id: 'warmte', type: 'heatmap', source: 'punten', layout: { visibility: 'none' },
    paint: { 'heatmap-radius': ['interpolate', ['linear'], ['zoom'], 10, 8, 15, 25], 'heatmap-opacity': 0.8,
      'heatmap-color': ['interpolate', ['linear'], ['heatmap-density'], 0, 'rgba(255,255,204,0)', 0.2, '#ffeda0',
        0.4, '#feb24c', 0.6, '#fd8d3c', 0.8, '#e31a1c', 1, '#800026'] } });
  map.addLayer({ id: 'punt', type: 'circle', source: 'punten', paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 1.5, 16, 5], 'circle-color': '#222', 'circle-opacity': 0.7 } });
  const popup = new Popup({ closeButton: false, closeOnClick: false });
  map.on('mousemove', 'buurt-vlak', (e) => {
    const p = e.features[0].properties;
    map.getCanvas().style.cursor = 'pointer';
    const rate = p.per_1000 === undefined || p.per_1000 === null || p.per_1000 === 'null' ? 'onbekend' : nl(+p.per_1000, 1);
    popup.setLngLat(e.lngLat).setHTML(`<strong>${esc(p.naam)}</strong><br>${nl(+p.aantal)} incidenten (vorige periode ${nl(+p.vorige_periode)})<br>per 1.000 inwoners: ${rate}<br>${esc(p.verandering_label)}${p.hotspot ? '<br><strong>' + esc(p.hotspot) + '</strong>' : ''}`).addTo(map);
  });
  map.on('mouseleave', 'buurt-vlak', () => { map.getCanvas().style.cursor = ''; popup.remove(); });
  map.on('click', 'buurt-vlak', (e) => {
    const code = e.features[0].id || e.features[0].properties.code;
    document.querySelectorAll('#buurten-tabel tr.actief').forEach((tr) => tr.classList.remove('actief'));
    const tr = document.querySelector(`#buurten-tabel tr[data-code="${code}"]`);
    if (tr) { tr.classList.add('actief'); tr.scrollIntoView({ block: 'nearest' }); }
  });
}

let timer;
form.addEventListener('change', (ev) => {
  if (ev.target.name === 'dataset') { window.location.href = `/incidenten?dataset=${encodeURIComponent(ev.target.value)}`; return; }
  if (ev.target.name === 'van' || ev.target.name === 'tot') form.querySelector('input[name=periode][value=aangepast]').checked = true;
  if (form.querySelector('input[name=periode][value=aangepast]').checked && !(form.van.value && form.tot.value)) return;
  clearTimeout(timer); timer = setTimeout(update, 150);
});
form.addEventListener('submit', (ev) => { ev.preventDefault(); update(); });
document.querySelectorAll('input[name=kleur]').forEach((el) => el.addEventListener('change', paintBuurten));
['laag-punten', 'laag-warmte', 'laag-hotspots'].forEach((id) => document.getElementById(id).addEventListener('change', toggles));
update();
