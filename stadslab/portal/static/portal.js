// Map on the dataset page: MapLibre from the web app's vendored copy, a GeoJSON layer, no tiles.
// Without MapLibre (or WebGL) the page says so; everything else works without this script.
const el = document.getElementById('kaart');
const note = document.getElementById('kaart-melding');

function say(text) {
  if (note) { note.textContent = text; note.hidden = false; }
}

async function main() {
  if (!el) return;
  let ml;
  try {
    ml = await import('/static/vendor/maplibre/maplibre-gl.mjs');
  } catch (e) {
    el.hidden = true;
    say('De kaart is hier niet beschikbaar (MapLibre ontbreekt); de geometrie staat in de GeoJSON-download.');
    return;
  }
  const data = await (await fetch(el.dataset.src)).json();
  if (!data.features.length) { el.hidden = true; say('Geen objecten met een locatie in deze selectie.'); return; }
  const b = [180, 90, -180, -90];
  const walk = (c) => { if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk); };
  data.features.forEach((f) => walk(f.geometry.coordinates));
  const map = new ml.Map({
    container: el, bounds: [[b[0], b[1]], [b[2], b[3]]], fitBoundsOptions: { padding: 20 },
    style: { version: 8, sources: {}, layers: [{ id: 'achtergrond', type: 'background', paint: { 'background-color': '#eef1f4' } }] },
    attributionControl: false,
  });
  map.addControl(new ml.NavigationControl({ showCompass: false }));
  map.on('load', () => {
    map.addSource('data', { type: 'geojson', data });
    const points = data.features[0].geometry.type === 'Point';
    if (points) {
      map.addLayer({ id: 'punten', type: 'circle', source: 'data', paint: { 'circle-radius': 3, 'circle-color': '#01689b', 'circle-opacity': 0.6 } });
    } else {
      map.addLayer({ id: 'vlakken', type: 'fill', source: 'data', paint: { 'fill-color': '#01689b', 'fill-opacity': 0.15 } });
      map.addLayer({ id: 'randen', type: 'line', source: 'data', paint: { 'line-color': '#01689b', 'line-width': 1 } });
    }
    el.dataset.geladen = String(data.features.length);
  });
}

main().catch((e) => say('De kaart kon niet laden: ' + e.message));
