// Incidentenkaart: filters → API → map layers (buurten, 125 m hotspots, points, heat), table, charts, Bron.
import { makeMap, fit, setData, getJSON, nl, nlSigned, pText, esc, quantileBreaks, countColourExpr, COUNT_COLOURS, MISSING, setBron, embed, Popup, nlDate, highlight } from './common.js';

const boot = JSON.parse(document.getElementById('incident-data').textContent);
const form = document.getElementById('filters');
const api = `/api/incidenten/${encodeURIComponent(boot.dataset)}`;
let map; let last = null; let seq = 0;
if (window.matchMedia('(max-width: 1000px)').matches) document.getElementById('filters-uitklap').open = false;  // map first on a phone
const mapReady = makeMap('kaart', boot.bbox).then((m) => { map = m; addLayers(); return m; });  // starts with the data fetch

// Page state that is not a filter (colour mode, layers, trend grain) lives in the URL too: bookmark and share.
const start = new URLSearchParams(location.search);
if (start.get('kleur')) { const r = document.querySelector(`input[name=kleur][value="${CSS.escape(start.get('kleur'))}"]`); if (r) r.checked = true; }
if (start.has('lagen')) {
  const on = new Set(start.get('lagen').split(',').filter(Boolean));
  [['punten', 'laag-punten'], ['warmte', 'laag-warmte'], ['hotspots', 'laag-hotspots']].forEach(([k, id]) => { document.getElementById(id).checked = on.has(k); });
}
if (start.get('korrel') === 'week') document.querySelector('input[name=korrel][value=week]').checked = true;
function viewState() {
  const lagen = [['punten', 'laag-punten'], ['warmte', 'laag-warmte'], ['hotspots', 'laag-hotspots']].filter(([, id]) => document.getElementById(id).checked).map(([k]) => k);
  return `kleur=${colourMode()}&lagen=${lagen.join(',')}&korrel=${document.querySelector('input[name=korrel]:checked').value}`;
}
function saveUrl() {
  history.replaceState(null, '', `/incidenten?dataset=${encodeURIComponent(boot.dataset)}&${query()}&${viewState()}`);
}

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
  if (mode === 'geen') { el.innerHTML = legendHot() + legendHeat(); return; }
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
    `<li><span class="vlak" style="background:${MISSING}"></span>onbekend${allMissing ? ' (geen inwonertal)' : ''}</li></ul>` + legendHot() + legendHeat();
}
function legendHeat() {
  if (!document.getElementById('laag-warmte').checked) return '';
  return '<div class="warmte-legenda"><strong>Warmtekaart</strong>: dichtheid van incidenten, van laag naar hoog (relatief: de hoogste dichtheid in beeld is het donkerst)' +
    '<div class="warmte-schaal" aria-hidden="true"></div><div class="warmte-as"><span>laag</span><span>hoog</span></div></div>';
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
    document.getElementById('periode-tekst').textContent = `${s.periode.label}: ${nlDate(s.periode.van)} t/m ${nlDate(s.periode.tot_en_met)}`;
    document.getElementById('vorige-periode-tekst').textContent = `${nlDate(s.periode.vorige_van)} t/m ${nlDate(s.periode.vorige_tot_en_met)}`;
    document.getElementById('hotspots').textContent = `${nl(s.hotspots_buurt)} ${s.hotspots_buurt === 1 ? 'buurt' : 'buurten'}`;
    document.getElementById('hotspots-sub').textContent = `en ${nl(s.hotspots_raster)} ${s.hotspots_raster === 1 ? 'vak' : 'vakken'} van 125 m${raster.let_op ? ' (indicatief: weinig incidenten)' : ''}`;
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
    // the chosen wijk outlined in context (the outlines of the shared map know its shape)
    const wijk = form.wijk.value;
    const omtrek = map.getSource('sl-omtrek')?.serialize().data;
    const shape = wijk && omtrek ? omtrek.features.find((x) => x.properties.code === wijk) : null;
    if (shape || map.getSource('sl-selectie')) highlight(map, shape ? shape.geometry : null, null);
    saveUrl();
    map.once('idle', () => { document.body.dataset.kaartKlaarMs = String(Math.round(performance.now())); document.body.dataset.kaartKlaar = '1'; });
    map.triggerRepaint();
    document.body.dataset.bijgewerkt = q;
    charts(s);
    trends(q);
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

// ---- trends (issue 10, item 12): a line per year, and the city against the country -------------------
const MAANDEN = ['jan', 'feb', 'mrt', 'apr', 'mei', 'jun', 'jul', 'aug', 'sep', 'okt', 'nov', 'dec'];
let trendSeq = 0;
async function trends(q) {
  const korrel = document.querySelector('input[name=korrel]:checked').value;
  const p = new URLSearchParams(q); p.delete('periode'); p.delete('van'); p.delete('tot'); p.set('korrel', korrel);
  const mine = ++trendSeq;
  const t = await getJSON(`${api}/trend?${p}`);
  if (mine !== trendSeq) return;
  const last = Math.max(...t.jaren);
  const rows = t.rijen.map((r) => ({ ...r, jaar: String(r.jaar), label: korrel === 'maand' ? MAANDEN[r.nr - 1] : `week ${r.nr}`, nieuwste: r.jaar === last }));
  document.getElementById('grafiek-trend-titel').textContent = `Incidenten per ${korrel}, een lijn per jaar (${nlDate(t.van)} t/m ${nlDate(t.tot_en_met)})`;
  const x = korrel === 'maand'
    ? { field: 'nr', type: 'ordinal', title: null, axis: { labelExpr: `${JSON.stringify(MAANDEN)}[datum.value - 1]`, labelAngle: 0 } }
    : { field: 'nr', type: 'quantitative', title: 'ISO-week', scale: { domain: [1, 53] } };
  await embed(document.getElementById('grafiek-trend'), {
    width: 'container', height: 220, data: { values: rows },
    layer: [
      { mark: { type: 'line', point: korrel === 'maand' }, encoding: { x, y: { field: 'aantal', type: 'quantitative', title: 'incidenten' },
        color: { field: 'jaar', type: 'nominal', title: 'jaar', scale: { scheme: 'viridis' } },
        strokeWidth: { condition: { test: 'datum.nieuwste', value: 3 }, value: 1.3 },
        strokeDash: { field: 'volledig', type: 'nominal', scale: { domain: [true, false], range: [[1, 0], [4, 3]] }, legend: null },
        tooltip: [{ field: 'jaar', title: 'jaar' }, { field: 'label', title: korrel }, { field: 'aantal', title: 'incidenten', format: ',d' }, { field: 'volledig', title: 'volledig' }] } },
    ],
  });
  document.body.dataset.trend = korrel;
  const fig = document.getElementById('figuur-nederland');
  fig.hidden = !t.nederland;
  if (t.nederland) {
    const n = t.nederland;
    document.getElementById('grafiek-nederland-titel').textContent = `Gemeente ${boot.gemeente} en Nederland (${n.soort}), index: gemiddelde over ${n.maanden} maanden = 100` +
      (n.correlatie !== null ? ` · samenhang r = ${nl(n.correlatie, 2)}` : '');
    await embed(document.getElementById('grafiek-nederland'), {
      width: 'container', height: 200, data: { values: n.rijen.map((r) => ({ ...r, reeks: r.reeks === 'deze gemeente' ? boot.gemeente : r.reeks })) },
      mark: { type: 'line' },
      encoding: { x: { field: 'maand', type: 'temporal', title: null, axis: { format: '%b %Y' } }, y: { field: 'index', type: 'quantitative', title: 'index (gemiddelde = 100)' },
        color: { field: 'reeks', type: 'nominal', title: null, scale: { range: ['#c8102e', '#555'] }, legend: { orient: 'bottom' } },
        tooltip: [{ field: 'reeks' }, { field: 'maand', type: 'temporal', format: '%B %Y' }, { field: 'index', format: '.1f' }, { field: 'aantal', format: ',d' }] },
    });
  }
}

// The time slider walks month by month through the data: it sets an own period (van … tot) and updates.
const slider = document.getElementById('tijdschuif');
const months = [];
if (boot.eerste && boot.laatste) {
  const [y0, m0] = boot.eerste.split('-').map(Number); const [y1, m1] = boot.laatste.split('-').map(Number);
  for (let y = y0, m = m0; y < y1 || (y === y1 && m <= m1); m === 12 ? (y++, m = 1) : m++) months.push([y, m]);
  slider.max = String(months.length - 1); slider.value = String(months.length - 1);
}
const pad = (n) => String(n).padStart(2, '0');
function sliderMonth() {
  const [y, m] = months[+slider.value];
  const lastDay = new Date(y, m, 0).getDate();
  document.getElementById('tijdschuif-tekst').textContent = `${MAANDEN[m - 1]} ${y}`;
  form.van.value = `${y}-${pad(m)}-01`; form.tot.value = `${y}-${pad(m)}-${pad(lastDay)}`;
  form.querySelector('input[name=periode][value=aangepast]').checked = true;
}
slider.addEventListener('input', () => { if (months.length) { sliderMonth(); clearTimeout(timer); timer = setTimeout(update, 250); } });
document.querySelectorAll('input[name=korrel]').forEach((el) => el.addEventListener('change', () => { saveUrl(); trends(query()); }));

let timer;
form.addEventListener('change', (ev) => {
  if (ev.target.id === 'tijdschuif') return;
  if (ev.target.name === 'dataset') { window.location.href = `/incidenten?dataset=${encodeURIComponent(ev.target.value)}`; return; }
  if (ev.target.name === 'van' || ev.target.name === 'tot') form.querySelector('input[name=periode][value=aangepast]').checked = true;
  if (form.querySelector('input[name=periode][value=aangepast]').checked && !(form.van.value && form.tot.value)) return;
  clearTimeout(timer); timer = setTimeout(update, 150);
});
form.addEventListener('submit', (ev) => { ev.preventDefault(); update(); });
document.querySelectorAll('input[name=kleur]').forEach((el) => el.addEventListener('change', () => { paintBuurten(); saveUrl(); }));
['laag-punten', 'laag-warmte', 'laag-hotspots'].forEach((id) => document.getElementById(id).addEventListener('change', toggles));
update();
