// Risicokaart: the top cells of the chosen map (model or a naive baseline), the top-20 table, the per-period chart.
import { makeMap, fit, setData, getJSON, nl, esc, quantileBreaks, countColourExpr, COUNT_COLOURS, setBron, embed, Popup } from './common.js';

const boot = JSON.parse(document.getElementById('risico-data').textContent);
const api = `/api/risico/${encodeURIComponent(boot.dataset)}`;
const SCORE_LABEL = {
  model: 'Verwacht aantal (model)', last_period: 'Incidenten vorige periode', last_365d: 'Incidenten afgelopen jaar', kde: 'Kerndichtheid',
};
const COUNTS = new Set(['last_period', 'last_365d']);
let map; let cells = null; let seq = 0; let popup;
const digits = (score) => (COUNTS.has(score) ? 0 : 2);

function chart() {
  const el = document.getElementById('grafiek-perioden');
  if (!el || !boot.per_periode.length) return;
  embed(el, {
    width: 'container', height: 180, data: { values: boot.per_periode },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'begin', type: 'temporal', title: 'begin van de periode', axis: { format: '%d-%m' } },
      y: { field: 'trefkans', type: 'quantitative', title: 'trefkans bij 3 %', axis: { format: '.0%' }, scale: { zero: false } },
      color: { field: 'methode', type: 'nominal', title: null, scale: { domain: ['model', boot.namen[boot.beste]], range: ['#c8102e', '#01689b'] }, legend: { orient: 'bottom' } },
      strokeDash: { field: 'methode', type: 'nominal', title: null, scale: { domain: ['model', boot.namen[boot.beste]], range: [[1, 0], [5, 3]] }, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'begin', type: 'temporal', format: '%d-%m-%Y' }, { field: 'methode' },
        { field: 'trefkans', format: '.1%' }, { field: 'incidenten', title: 'incidenten' }],
    },
  });
}

function legend(breaks, score, hasZero) {
  const labels = [];
  if (score === 'last_period' || score === 'last_365d') {   // counts: 1, 2–5, 6–12, …
    let lo = 1;
    breaks.forEach((b) => { labels.push(lo >= b ? nl(b) : `${nl(lo)}–${nl(b)}`); lo = b + 1; });
  } else {
    let lo = null;
    breaks.forEach((b) => { labels.push(lo === null ? `t/m ${nl(b, 2)}` : `${nl(lo, 2)} – ${nl(b, 2)}`); lo = b; });
  }
  document.getElementById('legenda').innerHTML = `<strong>${esc(SCORE_LABEL[score])} per aangewezen vak</strong><ul>` +
    (hasZero ? `<li><span class="vlak" style="background:${COUNT_COLOURS[0]};border:1px solid #999"></span>0</li>` : '') +
    labels.map((l, i) => `<li><span class="vlak" style="background:${COUNT_COLOURS[Math.min(i + 1, COUNT_COLOURS.length - 1)]}"></span>${l}</li>`).join('') +
    '<li><span class="vlak" style="background:#fff;border:2px solid #777"></span>buurtgrens</li></ul>';
}

function table(fc) {
  document.getElementById('score-kop').textContent = SCORE_LABEL[fc.score];
  document.getElementById('top-tabel').classList.toggle('model', fc.score === 'model');
  const rows = fc.features.slice(0, 20).map((f) => f.properties);
  document.querySelector('#top-tabel tbody').innerHTML = rows.map((r) => `<tr data-rang="${r.rang}"><td class="getal">${r.rang}</td>` +
    `<td><button type="button" class="cel" data-rang="${r.rang}">${esc(r.cel)}</button></td><td>${esc(r.buurt || r.buurt_code || 'onbekend')}</td>` +
    `<td class="getal">${nl(r.score, digits(fc.score))}</td><td class="getal kol-verwacht">${nl(r.verwacht, 2)}</td><td class="waarom">${esc(r.toelichting)}</td></tr>`).join('');
}

const buurtOf = (p) => esc(p.buurt || p.buurt_code || 'onbekend');
function popupHTML(p) {   // short: the reasons go to the panel under the map (room, and read out by screen readers)
  return `<strong>Vak ${esc(p.cel)} · rang ${p.rang}</strong><br>${buurtOf(p)}<br>${esc(SCORE_LABEL[cells.score])}: ${nl(+p.score, digits(cells.score))}`;
}
function infoHTML(p) {
  const model = cells.score !== 'model' && p.toelichting_model
    ? `<p class="klein"><strong>Het model over dit vak</strong> (verwacht ${nl(+p.verwacht, 2)} incidenten): ${esc(p.toelichting_model)}</p>` : '';
  return `<p><strong>Vak ${esc(p.cel)}</strong> in ${buurtOf(p)} — rang ${p.rang} op de kaart '${esc(boot.namen[cells.score])}'. ` +
    `${esc(SCORE_LABEL[cells.score])}: ${nl(+p.score, digits(cells.score))}.</p><p><strong>Waarom:</strong> ${esc(p.toelichting)}</p>${model}`;
}

function select(rang, fly) {
  const f = cells && cells.features.find((x) => x.properties.rang === rang);
  if (!f) return;
  map.setFilter('cel-actief', ['==', ['get', 'rang'], rang]);
  const ring = f.geometry.coordinates[0];
  const c = [(ring[0][0] + ring[2][0]) / 2, (ring[0][1] + ring[2][1]) / 2];
  popup.setLngLat(c).setHTML(popupHTML(f.properties)).addTo(map);
  const info = document.getElementById('vak-info');
  info.innerHTML = infoHTML(f.properties); info.hidden = false;
  if (fly) map.easeTo({ center: c, zoom: Math.max(map.getZoom(), 14), duration: 0 });
  document.querySelectorAll('#top-tabel tr.actief').forEach((tr) => tr.classList.remove('actief'));
  const tr = document.querySelector(`#top-tabel tr[data-rang="${rang}"]`);
  if (tr) { tr.classList.add('actief'); if (!fly) tr.scrollIntoView({ block: 'nearest' }); }
  document.body.dataset.gekozenVak = f.properties.cel;
}

async function show(score) {
  const mine = ++seq;
  document.body.dataset.bezig = '1';
  delete document.body.dataset.kaartKlaar;
  try {
    const fc = await getJSON(`${api}/cellen.geojson?score=${encodeURIComponent(score)}`);
    if (mine !== seq) return;
    cells = fc;
    const breaks = quantileBreaks(fc.features.map((f) => f.properties.score));
    setData(map, 'cellen', fc);
    map.setPaintProperty('cel-vlak', 'fill-color', countColourExpr('score', breaks));
    map.setFilter('cel-actief', ['==', ['get', 'rang'], -1]);
    popup.remove();
    document.getElementById('vak-info').hidden = true;
    legend(breaks, score, fc.features.some((f) => f.properties.score <= 0));
    table(fc);
    setBron(document.getElementById('bron-kaart'), fc.bron, 'bron-kaart-details');
    const name = boot.namen[score];
    document.getElementById('kaart-uitleg').textContent = `De ${nl(fc.aangewezen)} vakken (${nl(fc.top * 100, 0)} % van het oppervlak) ` +
      `met de hoogste score volgens '${name}'` + (score === boot.standaard ? ' — de kaart die de toets aanbeveelt.' : ` — de toets beveelt '${boot.namen[boot.standaard]}' aan.`);
    for (const id of ['dl-csv', 'dl-geojson']) {
      const a = document.getElementById(id);
      a.href = a.href.replace(/score=[a-z_0-9]+/, `score=${score}`);
    }
    document.querySelectorAll('#scores tbody tr').forEach((tr) => tr.classList.toggle('getoond', tr.dataset.methode === score));
    const url = new URL(window.location.href);
    url.searchParams.set('dataset', boot.dataset); url.searchParams.set('score', score); url.searchParams.delete('gemaakt');
    history.replaceState(null, '', url.pathname + url.search);
    document.body.dataset.score = score;
    map.once('idle', () => { document.body.dataset.kaartKlaar = '1'; });
    map.triggerRepaint();
  } catch (e) {
    document.getElementById('legenda').innerHTML = `<p class="melding melding--fout" role="alert">${esc(e.message)}</p>`;
  } finally {
    if (mine === seq) delete document.body.dataset.bezig;
  }
}

async function start() {
  chart();
  if (!boot.heeft_kaart) return;
  map = await makeMap('kaart', boot.bbox);
  popup = new Popup({ closeButton: true, closeOnClick: false, maxWidth: '340px' });
  const empty = { type: 'FeatureCollection', features: [] };
  setData(map, 'buurten', empty); setData(map, 'cellen', empty);
  map.addLayer({ id: 'buurt-vlak', type: 'fill', source: 'buurten', paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.7 } });
  map.addLayer({ id: 'buurt-lijn', type: 'line', source: 'buurten', paint: { 'line-color': '#777', 'line-width': 0.8 } });
  map.addLayer({ id: 'cel-vlak', type: 'fill', source: 'cellen', paint: { 'fill-color': COUNT_COLOURS[3], 'fill-opacity': 0.9 } });
  map.addLayer({ id: 'cel-lijn', type: 'line', source: 'cellen', paint: { 'line-color': '#4a1d00', 'line-width': 0.6 } });
  map.addLayer({ id: 'cel-actief', type: 'line', source: 'cellen', filter: ['==', ['get', 'rang'], -1], paint: { 'line-color': '#000', 'line-width': 3 } });
  map.on('mouseenter', 'cel-vlak', () => { map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'cel-vlak', () => { map.getCanvas().style.cursor = ''; });
  map.on('click', 'cel-vlak', (e) => select(+e.features[0].properties.rang, false));
  document.querySelector('#top-tabel').addEventListener('click', (e) => {
    const b = e.target.closest('button.cel');
    if (b) select(+b.dataset.rang, true);
  });
  document.querySelectorAll('input[name=score]').forEach((el) => el.addEventListener('change', () => show(el.value)));
  if (boot.gemeente) {   // buurt outlines for orientation (the map has no background tiles: it works offline)
    try {
      setData(map, 'buurten', await getJSON(`/api/gebieden.geojson?jaar=${boot.jaar}&niveau=buurt&gemeente=${encodeURIComponent(boot.gemeente)}`));
    } catch (e) { /* the cells still show; the outlines are only a background */ }
  }
  fit(map, boot.bbox);
  await show(document.querySelector('input[name=score]:checked').value);
}
start();
