// The coverage map (Leaflet), loaded only when the coverage screen opens so the app shell stays
// small. Hexagons coloured by the share of their accounts covered, with the count on each; points
// coloured by status at high zoom. Under them the app's own province and city boundaries
// (basemap.ts), so no tile server is needed; a site's own tile server is configurable (VITE_TILE_URL).
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { CoverageMap, MapPoint } from '../../api/types';
import { formatDate, t } from '../../i18n';
import { shareColour } from '../../visits/geo';
import { h } from '../dom';
import { addBaseLayer, TILE_URL } from './basemap';
import { href } from '../router';

/** No tiles unless the site names its own tile server at build time (VITE_TILE_URL). */
export const DEFAULT_TILE_URL = '';

export const STATUS_COLOURS: Record<MapPoint['status'], string> = {
  covered: '#1e7d32',
  due_soon: '#e0a100',
  overdue: '#b3261e',
  never: '#5d6878',
};

export interface View {
  /** minLon,minLat,maxLon,maxLat */
  bbox: string;
  zoom: number;
}

export interface MapHandle {
  setData(data: CoverageMap): void;
  view(): View;
  destroy(): void;
}

export interface MapOptions {
  /** [[south, west], [north, east]] to show first (the accounts on the device), else China */
  bounds?: [[number, number], [number, number]] | null;
  /** called after the map moved or zoomed (the caller debounces) */
  onMove(view: View): void;
}

function round(n: number): string {
  return (Math.round(n * 1e5) / 1e5).toString();
}

export function mountMap(container: HTMLElement, options: MapOptions): MapHandle {
  const map = L.map(container, {
    center: [33, 114],
    zoom: 5,
    minZoom: 3,
    maxZoom: 18,
    renderer: L.svg({ padding: 0.2 }),
    attributionControl: !!TILE_URL,
    zoomControl: true,
  });
  const base = addBaseLayer(map, container);
  const layer = L.layerGroup().addTo(map);
  // A city's worth of accounts opens as hexagons (zoom 11 at most), not as single points.
  if (options.bounds) map.fitBounds(options.bounds, { maxZoom: 11, padding: [16, 16] });

  const view = (): View => {
    const b = map.getBounds();
    return { bbox: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(round).join(','), zoom: map.getZoom() };
  };
  const moved = () => options.onMove(view());
  map.on('moveend', moved);
  // The container may get its size only after this frame (the screen is being put in place).
  requestAnimationFrame(() => map.invalidateSize());

  const tag = (l: L.Path | L.Marker, testid: string, data: Record<string, string>) => {
    const el = l.getElement();
    if (!el) return;
    el.setAttribute('data-testid', testid);
    for (const [k, v] of Object.entries(data)) el.setAttribute(`data-${k}`, v);
  };

  return {
    view,
    setData(data) {
      layer.clearLayers();
      container.dataset.mode = data.mode;
      container.dataset.cells = String(data.cells.length);
      container.dataset.points = String(data.points.length);
      for (const cell of data.cells) {
        const colour = shareColour(cell.coveredShare);
        const polygon = L.polygon(
          cell.boundary.map(([lat, lon]) => [lat!, lon!] as [number, number]),
          { color: colour, weight: 1, fillColor: colour, fillOpacity: 0.45, className: 'hex' },
        );
        polygon.bindTooltip(
          h('span', null, t('coverage.cellTip', { n: cell.accounts, c: cell.covered, p: Math.round(cell.coveredShare * 100) })),
          { sticky: true },
        );
        layer.addLayer(polygon);
        tag(polygon, 'coverage-hex', { h3: cell.h3, share: String(cell.coveredShare), accounts: String(cell.accounts) });
        if (data.cells.length <= 400) {
          const label = L.marker([cell.latitude, cell.longitude], {
            interactive: false,
            keyboard: false,
            icon: L.divIcon({ className: 'hex-count', html: h('span', null, String(cell.accounts)), iconSize: [28, 16] }),
          });
          layer.addLayer(label);
        }
      }
      for (const p of data.points) {
        const colour = STATUS_COLOURS[p.status];
        const marker = L.circleMarker([p.latitude, p.longitude], {
          radius: 7,
          color: '#fff',
          weight: 1.5,
          fillColor: colour,
          fillOpacity: 0.95,
          className: `pt pt-${p.status}`,
        });
        marker.bindPopup(
          h(
            'div',
            { class: 'map-popup' },
            h('a', { href: href.account(p.accountId) }, p.name),
            h('div', null, `${p.tier ?? '–'} · ${t(`coverageStatus.${p.status}`)}`),
            h('div', { class: 'muted' }, p.lastVisitedOn ? t('coverage.lastVisit', { date: formatDate(p.lastVisitedOn) }) : t('coverage.neverVisited')),
          ),
        );
        layer.addLayer(marker);
        tag(marker, 'coverage-point', { status: p.status, id: p.accountId });
      }
    },
    destroy() {
      map.off('moveend', moved);
      base.remove();
      map.remove();
    },
  };
}
