// The maps' own geography: province and prefecture-city boundaries and names, from the file the app
// ships (public/basemap/china.json, made by scripts/make-basemap.mjs, precached by the service
// worker), so a map shows where things are with no tile server and no network. A tile server stays
// possible: VITE_TILE_URL (build time) adds its tiles under the boundaries; none by default.
import L from 'leaflet';
import { getLocale } from '../../i18n';
import './map.css';

export const BASEMAP_URL = '/basemap/china.json';
export const TILE_URL: string = import.meta.env.VITE_TILE_URL ?? '';
export const TILE_ATTRIBUTION: string = import.meta.env.VITE_TILE_ATTRIBUTION ?? '';

interface Place {
  id: string;
  name: string;
  en?: string;
  cp: [number, number] | null;
}
export interface BaseMapData {
  /** outer borders and borders between provinces, each once */
  provinceBorders: GeoJSON.MultiLineString;
  /** borders between the cities of a province */
  cityBorders: GeoJSON.MultiLineString;
  provinces: Place[];
  cities: Place[];
}

function text(name: string): HTMLElement {
  const span = document.createElement('span');
  span.textContent = name;
  return span;
}

let loading: Promise<BaseMapData | null> | null = null;

/** The boundaries (fetched once per page; the service worker answers offline). null when missing. */
export function loadBaseMap(fetcher: typeof fetch = fetch): Promise<BaseMapData | null> {
  if (!loading) {
    loading = fetcher(BASEMAP_URL)
      .then(async (r) => (r.ok ? ((await r.json()) as BaseMapData) : null))
      .catch(() => null)
      .then((data) => {
        if (!data) loading = null; // try again next time
        return data;
      });
  }
  return loading;
}

/** Cities and their names show from this zoom on; provinces' names from PROVINCE_LABEL_ZOOM. */
export const CITY_ZOOM = 7;
export const PROVINCE_LABEL_ZOOM = 4;

export interface BaseLayer {
  /** resolves when the boundaries are drawn (false: the file could not be had) */
  ready: Promise<boolean>;
  remove(): void;
}

/** Put the tiles (when configured) and the boundaries under everything else on `map`. */
export function addBaseLayer(map: L.Map, container: HTMLElement): BaseLayer {
  if (TILE_URL) L.tileLayer(TILE_URL, { maxZoom: 19, attribution: TILE_ATTRIBUTION, crossOrigin: true }).addTo(map);
  const pane = map.createPane('basemap');
  pane.style.zIndex = '250';
  const labelPane = map.createPane('basemap-labels');
  labelPane.style.zIndex = '350';
  labelPane.style.pointerEvents = 'none';
  const renderer = L.canvas({ pane: 'basemap', padding: 0.3 });
  const group = L.layerGroup().addTo(map);
  let cityLayer: L.GeoJSON | null = null;
  const provinceLabels = L.layerGroup();
  const cityLabels = L.layerGroup();
  const zh = getLocale() === 'zh-CN';
  let removed = false;

  const label = (p: Place, className: string) =>
    p.cp
      ? L.marker([p.cp[1], p.cp[0]], {
          pane: 'basemap-labels',
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className, html: text(zh ? p.name : (p.en ?? p.name)), iconSize: [0, 0] }),
        })
      : null;

  const showByZoom = () => {
    const zoom = map.getZoom();
    container.dataset.zoom = String(zoom);
    const wantCities = zoom >= CITY_ZOOM;
    if (cityLayer) {
      if (wantCities && !group.hasLayer(cityLayer)) group.addLayer(cityLayer);
      if (!wantCities && group.hasLayer(cityLayer)) group.removeLayer(cityLayer);
    }
    if (wantCities && !map.hasLayer(cityLabels)) cityLabels.addTo(map);
    if (!wantCities && map.hasLayer(cityLabels)) cityLabels.remove();
    const wantProvinceNames = zoom >= PROVINCE_LABEL_ZOOM && !wantCities;
    if (wantProvinceNames && !map.hasLayer(provinceLabels)) provinceLabels.addTo(map);
    if (!wantProvinceNames && map.hasLayer(provinceLabels)) provinceLabels.remove();
  };

  const ready = loadBaseMap().then((data) => {
    if (!data || removed) return false;
    group.addLayer(L.geoJSON(data.provinceBorders, { pane: 'basemap', interactive: false, style: () => ({ renderer, color: '#7d8799', weight: 1.5 }) }));
    cityLayer = L.geoJSON(data.cityBorders, { pane: 'basemap', interactive: false, style: () => ({ renderer, color: '#aab2c0', weight: 0.8, dashArray: '4 4' }) });
    for (const p of data.provinces) {
      const m = label(p, 'basemap-label basemap-province');
      if (m) provinceLabels.addLayer(m);
    }
    for (const p of data.cities) {
      const m = label(p, 'basemap-label basemap-city');
      if (m) cityLabels.addLayer(m);
    }
    // Tiles or not, the maps are told they have geography (browser tests look for it).
    container.dataset.basemap = 'ready';
    container.dataset.provinces = String(data.provinces.length);
    container.dataset.cities = String(data.cities.length);
    showByZoom();
    return true;
  });
  map.on('zoomend', showByZoom);
  if (!TILE_URL) container.classList.add('map-no-tiles');

  return {
    ready,
    remove() {
      removed = true;
      map.off('zoomend', showByZoom);
      group.remove();
      provinceLabels.remove();
      cityLabels.remove();
    },
  };
}
