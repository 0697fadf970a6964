// Shared helpers for the Stadslab pages: Dutch numbers, an offline MapLibre map, colours, the "Bron" panel.
import { Map as MLMap, NavigationControl, ScaleControl, Popup, LngLatBounds } from '/static/vendor/maplibre/maplibre-gl.mjs';
import { NL_LOCALE, enhanceMap, highlight, exportMapPNG } from './mapextras.js';

export { Popup, highlight, exportMapPNG };

const NF = {};
export function nl(v, d = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const key = String(d);
  NF[key] = NF[key] || new Intl.NumberFormat('nl-NL', { minimumFractionDigits: d, maximumFractionDigits: d });
  return NF[key].format(v);
}
export function nlSigned(v, d = 0) {
  if (v === null || v === undefined) return '–';
  const s = nl(v, d);
  return v > 0 ? '+' + s : s;
}
// '2017-09-20' → '20-09-2017' (Dutch date order on every page; ISO stays in URLs and downloads)
export function nlDate(iso) {
  if (!iso) return '–';
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}-${m[2]}-${m[1]}` : String(iso);
}
export function esc(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// Diverging, colour-blind safe (PuOr): below the city average purple, above orange; grey = missing.
export const Z_BREAKS = [-2, -1, -0.5, 0.5, 1, 2];
export const Z_COLOURS = ['#542788', '#8073ac', '#b2abd2', '#f7f7f7', '#fdb863', '#e08214', '#b35806'];
export const MISSING = '#bdbdbd';
export function zColourExpr(prop) {
  const step = ['step', ['to-number', ['get', prop]], Z_COLOURS[0]];
  Z_BREAKS.forEach((b, i) => step.push(b, Z_COLOURS[i + 1]));
  return ['case', ['==', ['get', prop], null], MISSING, step];
}
export function zColour(z) {
  if (z === null || z === undefined) return MISSING;
  let i = 0;
  while (i < Z_BREAKS.length && z >= Z_BREAKS[i]) i++;
  return Z_COLOURS[i];
}
export function zText(z) {   // white on the dark ends of the scale (WCAG contrast)
  return z !== null && z !== undefined && (z < -1 || z >= 2) ? '#fff' : '#1a1a1a';
}
export function pText(p) {
  if (p === null || p === undefined) return '–';
  return p < 0.001 ? 'p < 0,001' : `p = ${nl(p, 3)}`;
}
export const COUNT_COLOURS = ['#fff5eb', '#fdd0a2', '#fdae6b', '#fd8d3c', '#e6550d', '#a63603'];

export function quantileBreaks(values, k = 5) {
  const v = values.filter((x) => x !== null && x !== undefined && x > 0).sort((a, b) => a - b);
  if (!v.length) return [];
  const out = [];
  for (let i = 1; i <= k; i++) out.push(v[Math.min(v.length - 1, Math.ceil((v.length * i) / k) - 1)]);
  return [...new Set(out)];
}
export function countColourExpr(prop, breaks) {
  if (!breaks.length) return ['case', ['==', ['get', prop], null], MISSING, COUNT_COLOURS[0]];
  const step = ['step', ['to-number', ['get', prop]], COUNT_COLOURS[1]];
  breaks.slice(0, -1).forEach((b, i) => step.push(b + 1e-9, COUNT_COLOURS[Math.min(i + 2, COUNT_COLOURS.length - 1)]));
  return ['case', ['==', ['get', prop], null], MISSING, ['<=', ['to-number', ['get', prop]], 0], COUNT_COLOURS[0], step];
}

// A map with a plain background and the page's GeoJSON layers (works offline); mapextras.js adds the base
// layer when reachable, named area outlines, search, highlight and PNG export (opts: {zoek: false, naam}).
export function makeMap(container, bbox, opts = {}) {
  const map = new MLMap({
    locale: NL_LOCALE,
    container,
    style: { version: 8, sources: {}, layers: [{ id: 'achtergrond', type: 'background', paint: { 'background-color': '#eef1f4' } }] },
    bounds: bbox || [3.3, 50.7, 7.3, 53.6],
    fitBoundsOptions: { padding: 20 },
    attributionControl: false,
    preserveDrawingBuffer: true,
    dragRotate: false,
    pitchWithRotate: false,
  });
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.touchZoomRotate.disableRotation();
  window.__stadslabMap = map;
  return new Promise((resolve) => map.on('load', () => { enhanceMap(map, opts); resolve(map); }));
}
export function fit(map, bbox) {
  if (bbox) map.fitBounds(new LngLatBounds([bbox[0], bbox[1]], [bbox[2], bbox[3]]), { padding: 24, duration: 0 });
}
export function setData(map, id, data) {
  const src = map.getSource(id);
  if (src) src.setData(data); else map.addSource(id, { type: 'geojson', data });
}

export async function getJSON(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  const body = await r.json();
  if (!r.ok) throw new Error(body.fout || r.statusText);
  return body;
}

const fmtDate = (s) => (s ? new Date(s).toLocaleString('nl-NL', { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).replace(',', '') : '–');
export function bronHTML(block, id) {
  if (!block) return '';
  const filters = Object.entries(block.filters || {}).map(([k, v]) => `${esc(k)} = ${esc(Array.isArray(v) ? v.join(', ') : v)}`).join('; ');
  const ds = (block.datasets || []).map((d) => `<li><strong>${esc(d.titel)}</strong> (<code>${esc(d.dataset)}</code>, versie ${esc(d.versie)}) — ${esc(d.eigenaar)}${d.licentie ? ', ' + esc(d.licentie) : ''}. Geladen ${fmtDate(d.geladen_op)}${d.rijen != null ? ', ' + nl(d.rijen) + ' rijen' : ''}.${(d.bestanden || []).map((f) => `<br><span class="bron__bestand">${esc(f.pad)} · sha256 <code title="${esc(f.sha256)}">${esc((f.sha256 || '').slice(0, 12))}…</code></span>`).join('')}</li>`).join('');
  const notes = (block.opmerkingen || []).map((n) => `<p class="bron__noot">${esc(n)}</p>`).join('');
  return `<details class="bron" id="${esc(id)}"><summary>Bron</summary><div class="bron__inhoud"><p><strong>Methode:</strong> ${esc(block.methode)}</p>${filters ? `<p><strong>Filters:</strong> ${filters}</p>` : ''}<ul class="bron__datasets">${ds}</ul>${notes}<p class="bron__tijd">Ververst: ${fmtDate(block.ververst_op)} · berekend: ${fmtDate(block.berekend_op)}</p></div></details>`;
}
export function setBron(el, block, id) {
  if (!el) return;
  const open = el.querySelector('details')?.open;
  el.innerHTML = bronHTML(block, id);
  if (open) el.querySelector('details').open = true;
}

// Vega is loaded only when a chart is drawn, after the map: it is not on the map's critical path.
let vegaLoading;
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src; s.onload = resolve; s.onerror = () => reject(new Error('kan ' + src + ' niet laden'));
    document.head.appendChild(s);
  });
}
export function loadVega() {
  vegaLoading = vegaLoading || loadScript('/static/vendor/vega/vega.min.js')
    .then(() => loadScript('/static/vendor/vega/vega-lite.min.js'))
    .then(() => loadScript('/static/vendor/vega/vega-embed.min.js'));
  return vegaLoading;
}
export const TIME_LOCALE = {
  dateTime: '%a %e %B %Y %X', date: '%d-%m-%Y', time: '%H:%M:%S', periods: ['', ''],
  days: ['zondag', 'maandag', 'dinsdag', 'woensdag', 'donderdag', 'vrijdag', 'zaterdag'],
  shortDays: ['zo', 'ma', 'di', 'wo', 'do', 'vr', 'za'],
  months: ['januari', 'februari', 'maart', 'april', 'mei', 'juni', 'juli', 'augustus', 'september', 'oktober', 'november', 'december'],
  shortMonths: ['jan', 'feb', 'mrt', 'apr', 'mei', 'jun', 'jul', 'aug', 'sep', 'okt', 'nov', 'dec'],
};

// Download a drawn chart as PNG or SVG (Vega's view.toImageURL).
export async function exportChart(view, type, name) {
  const url = await view.toImageURL(type, type === 'png' ? 2 : 1);
  const a = document.createElement('a'); a.href = url; a.download = `${name}.${type}`;
  document.body.appendChild(a); a.click(); a.remove();
  return url;
}

export async function embed(el, spec) {
  if (!el) return;
  try { await loadVega(); } catch (e) { el.textContent = 'Grafiek niet beschikbaar: ' + e.message; return; }
  return window.vegaEmbed(el, { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', ...spec },
    { actions: false, renderer: 'svg', formatLocale: { decimal: ',', thousands: '.', grouping: [3], currency: ['€ ', ''] }, timeFormatLocale: TIME_LOCALE })
    .then((res) => {
      el.__vegaView = res.view;
      const name = el.id || 'grafiek';
      let bar = el.nextElementSibling;
      if (!bar || !bar.classList.contains('export')) {
        bar = document.createElement('div'); bar.className = 'export';
        bar.innerHTML = '<button type="button" class="knop knop--secundair knop--klein" data-export="png">PNG</button>' +
          '<button type="button" class="knop knop--secundair knop--klein" data-export="svg">SVG</button>';
        bar.setAttribute('aria-label', 'Grafiek downloaden');
        el.after(bar);
        bar.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => exportChart(el.__vegaView, b.dataset.export, name)));
      }
      return res;
    })
    .catch((e) => { el.textContent = 'Grafiek niet beschikbaar: ' + e.message; });
}
