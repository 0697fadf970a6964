// Pilot page maps: expected yield now and past removals, as proportional circles on the shared map.
import { makeMap, setData } from './common.js';

const data = JSON.parse(document.getElementById('wf-kaartdata')?.textContent || '{}');

function draw(id, rows, prop, colour) {
  const el = document.getElementById(id);
  const pts = (rows || []).filter((r) => r.lon != null && r.lat != null);
  if (!el || !pts.length) { if (el) el.textContent = 'Geen gegevens voor deze kaart.'; return; }
  const lons = pts.map((r) => r.lon), lats = pts.map((r) => r.lat);
  const max = Math.max(...pts.map((r) => r[prop])) || 1;
  makeMap(el, [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], { naam: id }).then((map) => {
    setData(map, id, { type: 'FeatureCollection', features: pts.map((r) => ({ type: 'Feature',
      geometry: { type: 'Point', coordinates: [r.lon, r.lat] }, properties: { v: r[prop] } })) });
    map.addLayer({ id, type: 'circle', source: id, paint: {
      'circle-radius': ['interpolate', ['linear'], ['get', 'v'], 0, 1.5, max, 10],
      'circle-color': colour, 'circle-opacity': 0.6 } });
  });
}
draw('kaart-opbrengst', data.opbrengst, 'verwacht', '#01689b');
draw('kaart-verwijderd', data.verwijderd, 'verwijderd', '#8a4b00');
