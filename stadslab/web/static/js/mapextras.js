// What every Stadslab map gets on top of the page's own layers (issue 10, items 10, 11, 14):
// Dutch control labels, a base layer (PDOK BRT-Achtergrondkaart when a first tile loads; configurable in
// stadslab.yaml under web.basemap), named wijk/buurt outlines around the view (the offline background),
// a search box for wijk, buurt and street, the chosen area highlighted in context, and export as PNG.
import { Marker, LngLatBounds } from '/static/vendor/maplibre/maplibre-gl.mjs';

export const NL_LOCALE = {
  'NavigationControl.ZoomIn': 'Inzoomen', 'NavigationControl.ZoomOut': 'Uitzoomen',
  'NavigationControl.ResetBearing': 'Noorden boven', 'Popup.Close': 'Sluiten', 'Map.Title': 'Kaart',
  'AttributionControl.ToggleAttribution': 'Bronvermelding tonen of verbergen', 'AttributionControl.MapFeedback': 'Kaartfout melden',
  'FullscreenControl.Enter': 'Volledig scherm', 'FullscreenControl.Exit': 'Volledig scherm sluiten',
  'GeolocateControl.FindMyLocation': 'Mijn locatie', 'GeolocateControl.LocationNotAvailable': 'Locatie niet beschikbaar',
  'LogoControl.Title': 'MapLibre-logo', 'ScaleControl.Meters': 'm', 'ScaleControl.Kilometers': 'km',
  'CooperativeGesturesHandler.WindowsHelpText': 'Gebruik Ctrl + scrollen om te zoomen',
  'CooperativeGesturesHandler.MacHelpText': 'Gebruik ⌘ + scrollen om te zoomen',
  'CooperativeGesturesHandler.MobileHelpText': 'Gebruik twee vingers om de kaart te verschuiven',
};

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const OWN = ['sl-buurtgrens', 'sl-wijkgrens', 'sl-selectie-rand', 'sl-selectie'];

function bboxOf(map) {
  const b = map.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(4)).join(',');
}

// Our outline layers stay above the page's fills, whatever the page adds later.
function keepOnTop(map) {
  const ids = map.getStyle().layers.map((l) => l.id);
  const top = ids.slice(-OWN.filter((id) => ids.includes(id)).length);
  if (OWN.filter((id) => ids.includes(id)).some((id) => !top.includes(id))) OWN.forEach((id) => map.getLayer(id) && map.moveLayer(id));
}

async function tileLoads(url, ms = 4000) {   // one tile, or give up: offline the map must not wait
  return new Promise((resolve) => {
    const img = new Image(); img.crossOrigin = 'anonymous';
    const t = setTimeout(() => { img.src = ''; resolve(false); }, ms);
    img.onload = () => { clearTimeout(t); resolve(true); };
    img.onerror = () => { clearTimeout(t); resolve(false); };
    img.src = url.replace('{z}', '12').replace('{x}', '2106').replace('{y}', '1348');
  });
}

async function baseLayer(map, info) {
  let conf = null;
  try { conf = (await (await fetch('/api/kaart/instellingen', { credentials: 'same-origin' })).json()).achtergrond; } catch (e) { conf = null; }
  const online = conf && navigator.onLine !== false && await tileLoads(conf.tiles);
  map.getContainer().dataset.achtergrond = online ? 'tegels' : 'grenzen';
  if (!online) {
    info.textContent = conf ? 'Achtergrond: wijk- en buurtgrenzen met namen (de achtergrondkaart is niet bereikbaar).'
      : 'Achtergrond: wijk- en buurtgrenzen met namen.';
    return;
  }
  map.addSource('sl-achtergrond', { type: 'raster', tiles: [conf.tiles], tileSize: 256, maxzoom: conf.maxzoom || 19, attribution: conf.attributie });
  const layers = map.getStyle().layers;
  const first = layers.find((l) => l.id !== 'achtergrond');
  map.addLayer({ id: 'sl-achtergrond', type: 'raster', source: 'sl-achtergrond', paint: { 'raster-opacity': 0.9 } }, first ? first.id : undefined);
  info.textContent = conf.attributie;
}

function labels(map, fc) {
  const markers = fc.features.filter((f) => f.properties.label).map((f) => {
    const el = document.createElement('span');
    el.className = `kaartlabel kaartlabel--${f.properties.niveau}`;
    el.textContent = f.properties.naam;
    el.setAttribute('aria-hidden', 'true');   // names are in the search and the tables; labels are visual
    return { niveau: f.properties.niveau, m: new Marker({ element: el, anchor: 'center' }).setLngLat(f.properties.label) };
  });
  const show = () => {
    const z = map.getZoom();
    markers.forEach(({ niveau, m }) => {
      const on = niveau === 'wijk' ? z < 13.5 : z >= 13.5;
      if (on && !m._map) m.addTo(map); else if (!on && m._map) m.remove();
    });
  };
  map.on('zoomend', show); show();
}

async function outlines(map) {
  const r = await fetch(`/api/kaart/omtrek.geojson?bbox=${bboxOf(map)}`, { credentials: 'same-origin' });
  if (!r.ok) return;
  const fc = await r.json();
  map.addSource('sl-omtrek', { type: 'geojson', data: fc });
  map.addLayer({ id: 'sl-buurtgrens', type: 'line', source: 'sl-omtrek', minzoom: 12.5, filter: ['==', ['get', 'niveau'], 'buurt'], paint: { 'line-color': '#6b6b6b', 'line-width': 0.6, 'line-dasharray': [2, 2] } });
  map.addLayer({ id: 'sl-wijkgrens', type: 'line', source: 'sl-omtrek', filter: ['==', ['get', 'niveau'], 'wijk'], paint: { 'line-color': '#3d3d3d', 'line-width': 1.4 } });
  labels(map, fc);
  map.getContainer().dataset.omtrek = String(fc.features.length);
}

// The chosen area (or street box) drawn in context: a thick outline over everything, the map fitted to it.
export function highlight(map, geometry, bbox) {
  const data = geometry ? { type: 'Feature', geometry, properties: {} } : { type: 'FeatureCollection', features: [] };
  if (map.getSource('sl-selectie')) map.getSource('sl-selectie').setData(data);
  else {
    map.addSource('sl-selectie', { type: 'geojson', data });
    map.addLayer({ id: 'sl-selectie-rand', type: 'line', source: 'sl-selectie', paint: { 'line-color': '#fff', 'line-width': 7 } });
    map.addLayer({ id: 'sl-selectie', type: 'line', source: 'sl-selectie', paint: { 'line-color': '#ffbf47', 'line-width': 4 } });
  }
  if (bbox) map.fitBounds(new LngLatBounds([bbox[0], bbox[1]], [bbox[2], bbox[3]]), { padding: 40, duration: 0, maxZoom: 16 });
  keepOnTop(map);
}

function boxPolygon(b) {
  return { type: 'Polygon', coordinates: [[[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]] };
}

function searchBox(map, holder) {
  const id = `${map.getContainer().id || 'kaart'}-zoek`;
  const box = document.createElement('div');
  box.className = 'zoek';
  box.innerHTML = `<label for="${id}">Zoek een straat, buurt of wijk op de kaart</label>` +
    `<input id="${id}" type="search" autocomplete="off" role="combobox" aria-expanded="false" aria-controls="${id}-lijst" aria-autocomplete="list">` +
    `<ul id="${id}-lijst" class="zoek__lijst" role="listbox" hidden></ul><p class="klein" id="${id}-status" aria-live="polite"></p>`;
  holder.before(box);
  const input = box.querySelector('input'); const list = box.querySelector('ul'); const status = box.querySelector('p');
  let hits = []; let active = -1; let timer;
  const close = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); active = -1; };
  const choose = async (h) => {
    close(); input.value = h.naam;
    let geom = null;
    if (h.code) {
      const fc = map.getSource('sl-omtrek')?.serialize().data;
      geom = fc?.features?.find((f) => f.properties.code === h.code)?.geometry || null;
      if (!geom) {
        try {
          const r = await fetch(`/api/gebieden.geojson?jaar=${h.jaar}&niveau=${h.soort}&gemeente=${h.gemeente_code}`, { credentials: 'same-origin' });
          geom = (await r.json()).features.find((f) => f.properties.code === h.code)?.geometry || null;
        } catch (e) { geom = null; }
      }
    }
    highlight(map, geom || boxPolygon(h.bbox), h.bbox);
    status.textContent = `${h.naam} (${h.soort}${h.aantal ? ', ' + h.aantal + ' incidenten' : ''}) is omlijnd op de kaart.`;
    map.getContainer().dataset.gekozen = h.naam;
    map.getContainer().dispatchEvent(new CustomEvent('sl:gekozen', { detail: h }));
  };
  const render = () => {
    list.innerHTML = hits.map((h, i) => `<li role="option" id="${id}-${i}" aria-selected="${i === active}">${esc(h.naam)} <span class="klein">${esc(h.soort)}${h.aantal ? ' · ' + h.aantal : ''}</span></li>`).join('');
    list.hidden = !hits.length; input.setAttribute('aria-expanded', String(!!hits.length));
    if (active >= 0) input.setAttribute('aria-activedescendant', `${id}-${active}`); else input.removeAttribute('aria-activedescendant');
    list.querySelectorAll('li').forEach((li, i) => li.addEventListener('mousedown', (e) => { e.preventDefault(); choose(hits[i]); }));
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) { hits = []; render(); return; }
    timer = setTimeout(async () => {
      const r = await fetch(`/api/kaart/zoek?q=${encodeURIComponent(q)}&bbox=${bboxOf(map)}`, { credentials: 'same-origin' });
      hits = r.ok ? (await r.json()).treffers : []; active = -1; render();
      status.textContent = hits.length ? `${hits.length} treffers` : 'Niets gevonden';
    }, 150);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && hits.length) { active = (active + 1) % hits.length; render(); e.preventDefault(); }
    else if (e.key === 'ArrowUp' && hits.length) { active = (active - 1 + hits.length) % hits.length; render(); e.preventDefault(); }
    else if (e.key === 'Enter' && hits.length) { choose(hits[Math.max(active, 0)]); e.preventDefault(); }
    else if (e.key === 'Escape') close();
  });
  input.addEventListener('blur', () => setTimeout(close, 150));
}

export function exportMapPNG(map, name = 'kaart') {
  map.triggerRepaint();
  return new Promise((resolve) => map.once('render', () => {
    const url = map.getCanvas().toDataURL('image/png');
    const a = document.createElement('a'); a.href = url; a.download = `${name}.png`;
    document.body.appendChild(a); a.click(); a.remove(); resolve(url);
  }));
}

// Called once per map after it loaded; never blocks the page (everything here is asynchronous).
export function enhanceMap(map, opts = {}) {
  const container = map.getContainer();
  const info = document.createElement('p');
  info.className = 'kaart-attributie';
  const tools = document.createElement('div');
  tools.className = 'export';
  tools.innerHTML = '<button type="button" class="knop knop--secundair knop--klein" data-export="kaart">Kaart als PNG</button>';
  tools.querySelector('button').addEventListener('click', () => exportMapPNG(map, opts.naam || container.id || 'kaart'));
  container.after(info);
  info.after(tools);
  if (opts.zoek !== false) searchBox(map, container);
  outlines(map).catch(() => {}).finally(() => map.once('idle', () => keepOnTop(map)));
  map.on('styledata', () => { if (map.getLayer('sl-wijkgrens')) keepOnTop(map); });
  baseLayer(map, info).catch(() => { info.textContent = 'Achtergrond: wijk- en buurtgrenzen met namen.'; });
}
