// Ontdekken: scatter plot of the chosen pair (points labelled by area, outliers named) and two maps side by side.
import { makeMap, fit, setData, getJSON, embed, esc, nl, MISSING, Popup } from './common.js';

const boot = JSON.parse(document.getElementById('ontdekken-data').textContent);
const SEQ = ['#eff3ff', '#bdd7e7', '#6baed6', '#3182bd', '#08519c'];   // colour-blind safe, light → dark

function quintiles(values) {
  const v = values.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (!v.length) return [];
  return [1, 2, 3, 4].map((i) => v[Math.min(v.length - 1, Math.floor((v.length * i) / 5))]);
}
function colourExpr(prop, breaks) {
  const step = ['step', ['to-number', ['get', prop]], SEQ[0]];
  [...new Set(breaks)].forEach((b, i) => step.push(b, SEQ[Math.min(i + 1, SEQ.length - 1)]));
  return ['case', ['==', ['get', prop], null], MISSING, step];
}

async function drawMap(id, geo, prop, label) {
  const map = await makeMap(id, geo.bbox);
  fit(map, geo.bbox);
  setData(map, 'gebieden', geo);
  const breaks = quintiles(geo.features.map((f) => f.properties[prop]));
  map.addLayer({ id: 'vlakken', type: 'fill', source: 'gebieden', paint: { 'fill-color': colourExpr(prop, breaks), 'fill-opacity': 0.9 } });
  map.addLayer({ id: 'lijnen', type: 'line', source: 'gebieden', paint: { 'line-color': '#555', 'line-width': ['case', ['get', 'uitschieter'], 2.5, 0.5] } });
  const popup = new Popup({ closeButton: false, closeOnClick: false });
  map.on('mousemove', 'vlakken', (e) => {
    const p = e.features[0].properties;
    const v = p[prop];
    popup.setLngLat(e.lngLat).setHTML(`<strong>${esc(p.naam)}</strong><br>${esc(label)}: ${v === null || v === undefined || v === 'null' ? 'geen waarde' : nl(+v, 2)}`).addTo(map);
  });
  map.on('mouseleave', 'vlakken', () => popup.remove());
  return new Promise((resolve) => map.once('idle', () => resolve(map)));
}

function scatter(geo) {
  const rows = geo.features.map((f) => f.properties).filter((p) => p.x !== null && p.y !== null)
    .map((p) => ({ naam: p.naam, code: p.code, x: p.x, y: p.y, uitschieter: p.uitschieter ? 'uitschieter' : 'gebied', inwoners: p.inwoners }));
  const el = document.getElementById('spreiding');
  el.dataset.punten = String(rows.length);
  const xt = boot.xlabel.length > 60 ? boot.xlabel.slice(0, 57) + '…' : boot.xlabel;
  const yt = boot.ylabel.length > 60 ? boot.ylabel.slice(0, 57) + '…' : boot.ylabel;
  return embed(el, {
    width: 'container', height: 320, autosize: { type: 'fit-x', contains: 'padding' },
    data: { values: rows },
    layer: [
      { mark: { type: 'point', filled: true, size: 45, opacity: 0.75 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: xt, scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', title: yt, scale: { zero: false } },
          color: { field: 'uitschieter', type: 'nominal', title: null, scale: { domain: ['gebied', 'uitschieter'], range: ['#3182bd', '#c8102e'] }, legend: { orient: 'bottom' } },
          tooltip: [{ field: 'naam', title: 'gebied' }, { field: 'x', title: 'x', format: ',.2f' }, { field: 'y', title: 'y', format: ',.2f' }, { field: 'inwoners', format: ',.0f' }],
        } },
      { transform: [{ filter: "datum.uitschieter === 'uitschieter'" }],
        mark: { type: 'text', align: 'left', dx: 6, dy: -4, fontSize: 11, limit: 140 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' }, text: { field: 'naam' } } },
    ],
  });
}

async function init() {
  const q = new URLSearchParams({ x: boot.x, y: boot.y, niveau: boot.niveau, jaar: boot.jaar });
  const geo = await getJSON(`/api/ontdekken/paar.geojson?${q}`);
  const plot = scatter(geo);
  await Promise.all([drawMap('kaart-x', geo, 'x', boot.xlabel), drawMap('kaart-y', geo, 'y', boot.ylabel), plot]);
}

init().then(() => { document.body.dataset.ontdekkenKlaar = '1'; })
  .catch((e) => {
    document.getElementById('kaart-x').innerHTML = `<p class="melding melding--fout">De kaarten konden niet laden: ${esc(e.message)}</p>`;
    document.body.dataset.ontdekkenKlaar = 'fout';
  });
