// Gebiedsmonitor: choropleth of the sub-areas (z-score against the city), click to drill down, charts.
import { makeMap, fit, setData, getJSON, zColourExpr, zColour, zText, Z_BREAKS, Z_COLOURS, MISSING, nl, esc, embed, Popup, setBron, highlight } from './common.js';

const boot = JSON.parse(document.getElementById('monitor-data').textContent);
const data = boot.data;
let indicator = boot.indicator;
const meta = Object.fromEntries(data.indicatoren.map((i) => [i.veld, i]));

function url(code, jaar = boot.jaar, refs = code === boot.gebied ? boot.referenties : []) {
  return `/monitor?gebied=${encodeURIComponent(code)}&jaar=${jaar}&indicator=${encodeURIComponent(indicator)}` +
    refs.map((r) => `&ref=${encodeURIComponent(r)}`).join('');
}

// An indicator CBS did not publish in the chosen year: say which year has it and offer to switch.
function yearHint() {
  const el = document.getElementById('indicator-melding');
  const years = boot.jaren_per_indicator[indicator] || [];
  if (years.includes(boot.jaar)) { el.hidden = true; el.innerHTML = ''; return; }
  const other = years.length ? years.reduce((a, b) => (Math.abs(b - boot.jaar) < Math.abs(a - boot.jaar) ? b : a)) : null;
  el.hidden = false;
  el.innerHTML = `<strong>${esc(meta[indicator].label)}</strong> is door CBS niet gepubliceerd voor ${boot.jaar}: de kaart blijft grijs.` +
    (other ? ` Het cijfer bestaat wel voor ${years.join(', ')}. <a class="knop knop--klein" id="wissel-jaar" href="${url(boot.gebied, other)}">Toon ${other}</a>` : '');
}

function legend() {
  const el = document.getElementById('legenda');
  const labels = ['< −2', '−2 tot −1', '−1 tot −0,5', 'rond gemiddelde', '0,5 tot 1', '1 tot 2', '> 2'];
  const m = meta[indicator];
  el.innerHTML = `<strong>${esc(m.label)}</strong>${m.eenheid ? ' (' + esc(m.eenheid) + ')' : ''}: z-score t.o.v. de stad<ul>` +
    Z_COLOURS.map((c, i) => `<li><span class="vlak" style="background:${c}"></span>${labels[i]}</li>`).join('') +
    `<li><span class="vlak" style="background:${MISSING}"></span>niet gepubliceerd</li></ul>`;
}

function updateTable() {
  const kop = document.getElementById('kind-ind-kop');
  if (kop) kop.innerHTML = esc(meta[indicator].label) + (meta[indicator].eenheid ? `<span class="klein"> ${esc(meta[indicator].eenheid)}</span>` : '');
  const kids = Object.fromEntries(data.kinderen.map((k) => [k.code, k]));
  document.querySelectorAll('#kinderen-tabel tbody tr').forEach((tr) => {
    const k = kids[tr.dataset.code];
    const d = meta[indicator].aantal ? 0 : 1;
    tr.querySelector('[data-veld=score]').textContent = nl(k.score[indicator], d);
    const z = k.z[indicator];
    tr.querySelector('[data-veld=z]').innerHTML = z === null ? '–' : `<span class="z-chip" style="background:${zColour(z)};color:${zText(z)}">${nl(z, 1)}</span>`;
    tr.querySelector('a').href = url(k.code);
  });
  document.querySelectorAll('#kruimelpad a').forEach((a) => {
    const u = new URL(a.href, location.href); u.searchParams.set('indicator', indicator); a.href = u.pathname + u.search;
  });
}

function chips() {
  document.querySelectorAll('.z-chip[data-z]').forEach((el) => {
    const z = parseFloat(el.dataset.z); el.style.background = zColour(z); el.style.color = zText(z);
  });
}

function charts() {
  const age = data.profiel.filter((r) => r.groep === 'Leeftijd');
  const rows = [];
  const name = document.getElementById('gebied-naam').firstChild.textContent.trim();
  const series = boot.niveau === 'gemeente' ? [name] : [name, 'Stad'];
  age.forEach((r) => {
    rows.push({ groep: r.label, gebied: name, waarde: r.score });
    if (boot.niveau !== 'gemeente') rows.push({ groep: r.label, gebied: 'Stad', waarde: r.stad });
  });
  embed(document.getElementById('grafiek-leeftijd'), {
    width: 'container', height: 180, data: { values: rows.filter((r) => r.waarde !== null) },
    mark: 'bar', encoding: {
      y: { field: 'groep', type: 'nominal', sort: null, title: null },
      yOffset: { field: 'gebied' },
      x: { field: 'waarde', type: 'quantitative', title: 'per 1.000 inwoners' },
      color: { field: 'gebied', type: 'nominal', title: null, scale: { domain: series, range: ['#c8102e', '#9e9e9e'] }, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'gebied' }, { field: 'groep' }, { field: 'waarde', format: ',.0f' }],
    },
  });
  childChart();
  const comp = data.profiel.filter((r) => r.veld === 'a_inw' || r.veld === 'a_hh');
  const vals = [];
  comp.forEach((r) => {
    if (r.vorige_waarde !== null) vals.push({ indicator: r.label, jaar: String(data.vorig_jaar), waarde: r.vorige_waarde });
    if (r.waarde !== null) vals.push({ indicator: r.label, jaar: String(data.jaar), waarde: r.waarde });
  });
  embed(document.getElementById('grafiek-verschil'), {
    width: 'container', height: 180, data: { values: vals }, mark: 'bar',
    encoding: {
      y: { field: 'indicator', type: 'nominal', title: null }, yOffset: { field: 'jaar' },
      x: { field: 'waarde', type: 'quantitative', title: 'aantal' },
      color: { field: 'jaar', type: 'nominal', title: null, scale: { range: ['#9e9e9e', '#c8102e'] }, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'indicator' }, { field: 'jaar' }, { field: 'waarde', format: ',.0f' }],
    },
  });
}

function childChart() {
  const m = meta[indicator];
  const vals = data.kinderen.map((k) => ({ gebied: k.naam, waarde: k.score[indicator], z: k.z[indicator] }))
    .filter((v) => v.waarde !== null);
  document.getElementById('grafiek-kinderen-titel').textContent = `${m.label}${m.eenheid ? ' (' + m.eenheid + ')' : ''} per deelgebied`;
  const el = document.getElementById('grafiek-kinderen');
  if (!vals.length) { el.textContent = data.kinderen.length ? 'Niet gepubliceerd voor deze gebieden.' : 'Geen deelgebieden.'; return; }
  embed(el, {
    width: 'container', height: Math.max(120, Math.min(14 * vals.length, 420)), data: { values: vals }, mark: 'bar',
    encoding: {
      y: { field: 'gebied', type: 'nominal', sort: '-x', title: null, axis: { labelLimit: 160 } },
      x: { field: 'waarde', type: 'quantitative', title: m.eenheid || 'waarde' },
      color: { field: 'z', type: 'quantitative', title: 'z', scale: { domain: [-2.5, 2.5], scheme: 'purpleorange', reverse: false }, legend: null },
      tooltip: [{ field: 'gebied' }, { field: 'waarde', format: ',.1f' }, { field: 'z', format: '.1f' }],
    },
  });
}

async function mapInit() {
  // fetch the layer while MapLibre starts (in parallel, not one after the other)
  const geoP = getJSON(`/api/monitor/kaart.geojson?gebied=${encodeURIComponent(boot.gebied)}&jaar=${boot.jaar}`);
  const [geo, map] = await Promise.all([geoP, makeMap('kaart', boot.bbox)]);
  fit(map, geo.bbox);
  setData(map, 'gebieden', geo);
  map.addLayer({ id: 'vlakken', type: 'fill', source: 'gebieden', paint: { 'fill-color': zColourExpr('z_' + indicator), 'fill-opacity': 0.85 } });
  map.addLayer({ id: 'lijnen', type: 'line', source: 'gebieden', paint: { 'line-color': '#333', 'line-width': ['case', ['get', 'gekozen'], 3.5, 0.8] } });
  if (geo.omtrek && boot.niveau !== 'buurt') {
    setData(map, 'omtrek', { type: 'Feature', geometry: geo.omtrek, properties: {} });
    map.addLayer({ id: 'omtrek', type: 'line', source: 'omtrek', paint: { 'line-color': '#000', 'line-width': 2.5 } });
  }
  const popup = new Popup({ closeButton: false, closeOnClick: false });
  map.on('mousemove', 'vlakken', (e) => {
    const p = e.features[0].properties;
    map.getCanvas().style.cursor = 'pointer';
    const s = p['s_' + indicator]; const z = p['z_' + indicator];
    popup.setLngLat(e.lngLat).setHTML(`<strong>${esc(p.naam)}</strong><br>${esc(meta[indicator].label)}: ${s === null || s === undefined || s === 'null' ? 'niet gepubliceerd' : nl(+s, 1)}<br>z = ${z === null || z === undefined || z === 'null' ? '–' : nl(+z, 1)}<br><em>klik om in te zoomen</em>`).addTo(map);
  });
  map.on('mouseleave', 'vlakken', () => { map.getCanvas().style.cursor = ''; popup.remove(); });
  map.on('click', 'vlakken', (e) => {
    const code = e.features[0].properties.code;
    if (code && code !== boot.gebied) { document.body.dataset.kaartKlaar = '0'; window.location.href = url(code); }
  });
  map.once('idle', () => { document.body.dataset.kaartKlaarMs = String(Math.round(performance.now())); document.body.dataset.kaartKlaar = '1'; });
  document.getElementById('indicator').addEventListener('change', (ev) => {
    indicator = ev.target.value;
    map.setPaintProperty('vlakken', 'fill-color', zColourExpr('z_' + indicator));
    legend(); updateTable(); childChart(); yearHint(); seriesChart(); compareTable();
    history.replaceState(null, '', url(boot.gebied));
    document.querySelectorAll('#ref-form input[name=indicator], #monitor-form input[name=indicator]').forEach((i) => { i.value = indicator; });
  });
  if (boot.niveau !== 'gemeente' && geo.omtrek) highlight(map, geo.omtrek, null);   // the chosen area in context
}

// ---- multi-year lines (issue 10, item 12) ---------------------------------------------------------------
let series = null;
async function seriesChart() {
  const el = document.getElementById('grafiek-reeks');
  if (!el) return;
  series = series || await getJSON(`/api/monitor/reeks?gebied=${encodeURIComponent(boot.gebied)}`);
  setBron(document.getElementById('bron-reeks'), series.bron, 'bron-reeks-details');
  const m = meta[indicator];
  const rows = series.rijen.filter((r) => r.veld === indicator).map((r) => ({
    ...r, jaar: String(r.jaar), rol: r.code === boot.gebied ? boot.naam : (r.code.startsWith('GM') ? 'stad' : 'omgeving'),
  }));
  document.getElementById('grafiek-reeks-titel').textContent = `${m.label}${m.eenheid ? ' (' + m.eenheid + ')' : ''} in ${series.jaren.join(', ')}`;
  if (!rows.length) { el.textContent = `${m.label} is in geen enkel jaar gepubliceerd voor deze gebieden.`; return; }
  await embed(el, {
    width: 'container', height: 240, data: { values: rows },
    mark: { type: 'line', point: { size: 60 } },
    encoding: {
      x: { field: 'jaar', type: 'ordinal', title: null, axis: { labelAngle: 0 } },
      y: { field: 'score', type: 'quantitative', title: m.eenheid || 'waarde', scale: { zero: false } },
      detail: { field: 'code' },
      color: { field: 'rol', type: 'nominal', title: null, scale: { domain: [boot.naam, 'stad', 'omgeving'], range: ['#c8102e', '#1a1a1a', '#b0b0b0'] }, legend: { orient: 'bottom' } },
      size: { field: "rol", type: "ordinal", sort: [boot.naam, "stad", "omgeving"], scale: { domain: [boot.naam, "stad", "omgeving"], range: [3.5, 2, 1] }, legend: null },
      strokeDash: { field: 'rol', type: 'nominal', scale: { domain: [boot.naam, 'stad', 'omgeving'], range: [[1, 0], [5, 3], [1, 0]] }, legend: null },
      tooltip: [{ field: 'naam', title: 'gebied' }, { field: 'jaar' }, { field: 'score', title: m.label, format: ',.1f' }],
    },
  });
}

// ---- comparison (issue 10, item 13) ---------------------------------------------------------------------
let comparison = null;
async function compareTable() {
  const table = document.getElementById('vergelijking-tabel');
  if (!table) return;
  if (!comparison) {
    const q = new URLSearchParams({ gebied: boot.gebied, jaar: boot.jaar });
    boot.referenties.forEach((r) => q.append('ref', r));
    comparison = await getJSON(`/api/monitor/vergelijking?${q}`);
    const sim = comparison.vergelijkbaar;
    document.getElementById('vergelijkbaar').innerHTML = sim.length
      ? `Vergelijkbaar op bevolkingsopbouw, dichtheid en wonen: ${sim.map((s) => `<a href="${url(s.code)}">${esc(s.naam)}</a>`).join(', ')}.`
      : 'Geen vergelijkbare gebieden te bepalen (te weinig kenmerken gepubliceerd).';
    document.getElementById('vergelijking-methode').textContent = comparison.methode;
    setBron(document.getElementById('bron-vergelijking'), comparison.bron, 'bron-vergelijking-details');
  }
  const cols = comparison.kolommen;
  table.querySelector('thead').innerHTML = `<tr><th scope="col">Indicator</th>${cols.map((c) => `<th scope="col" class="getal">${esc(c.naam)}</th>`).join('')}<th scope="col" class="getal">Rang</th></tr>`;
  table.querySelector('tbody').innerHTML = comparison.rijen.filter((r) => (boot.jaren_per_indicator[r.veld] || []).length).map((r) => {
    const d = r.aantal ? 0 : 1;
    return `<tr data-veld="${esc(r.veld)}" ${r.veld === indicator ? 'class="actief"' : ''}><th scope="row" title="${esc(r.omschrijving || '')}">${esc(r.label)}<span class="klein"> ${esc(r.eenheid || '')}</span></th>` +
      cols.map((c) => `<td class="getal">${r.waarden[c.sleutel] === null ? '<span class="ontbreekt">niet gepubliceerd</span>' : nl(r.waarden[c.sleutel], d)}</td>`).join('') +
      `<td class="getal">${r.rang ? `${r.rang.rang} van ${r.rang.van}` : '–'}</td></tr>`;
  }).join('');
}

legend();
chips();
updateTable();
yearHint();
seriesChart().catch((e) => { document.getElementById('grafiek-reeks').textContent = 'Reeks niet beschikbaar: ' + e.message; });
compareTable().catch((e) => { const t = document.getElementById('vergelijkbaar'); if (t) t.textContent = 'Vergelijking niet beschikbaar: ' + e.message; });
mapInit().catch((e) => {
  document.getElementById('kaart').innerHTML = `<p class="melding melding--fout">De kaart kon niet laden: ${esc(e.message)}</p>`;
}).finally(charts);
