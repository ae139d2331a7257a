// The rep's map (Leaflet, loaded only when the map screen opens): the app's own base layer, my
// accounts as pins coloured by coverage status and sized by tier, today's route as a line through
// its numbered stops, and where distances are measured from (my position, or a place tapped).
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import type { LatLon } from '../../visits/geo';
import type { MapAccount, RouteStop } from '../../visits/mymap';
import { addBaseLayer, TILE_URL } from './basemap';

export interface RepMapOptions {
  /** the map was tapped away from a pin: measure from there */
  onPick(place: LatLon): void;
  /** a pin was tapped */
  onAccount(id: string): void;
}

export interface RepMapHandle {
  setAccounts(accounts: readonly MapAccount[]): void;
  setRoute(stops: readonly RouteStop[]): void;
  setCentre(centre: LatLon | null, kind: 'me' | 'place'): void;
  fit(points: [[number, number], [number, number]] | null): void;
  focus(place: LatLon): void;
  ready: Promise<boolean>;
  destroy(): void;
}

/** A pin as a DOM element of `size` px (a tap target), centred on its place unless `anchor` says otherwise. */
function icon(className: string, size: [number, number], text = '', anchor?: [number, number]): L.DivIcon {
  const span = document.createElement('span');
  span.textContent = text;
  return L.divIcon({ className, html: span, iconSize: size, iconAnchor: anchor ?? [size[0] / 2, size[1] / 2] });
}

const PIN_SIZE: Record<string, number> = { A: 26, B: 22 };

export function mountRepMap(container: HTMLElement, options: RepMapOptions): RepMapHandle {
  const map = L.map(container, { center: [33, 114], zoom: 4, minZoom: 3, maxZoom: 18, attributionControl: !!TILE_URL, zoomControl: true });
  const base = addBaseLayer(map, container);
  const routeLayer = L.layerGroup().addTo(map);
  const pins = L.layerGroup().addTo(map);
  const centreLayer = L.layerGroup().addTo(map);
  map.on('click', (e: L.LeafletMouseEvent) => options.onPick({ latitude: e.latlng.lat, longitude: e.latlng.lng }));
  requestAnimationFrame(() => map.invalidateSize());

  const tag = (marker: L.Marker, testid: string, data: Record<string, string>) => {
    const el = marker.getElement();
    if (!el) return;
    el.setAttribute('data-testid', testid);
    for (const [k, v] of Object.entries(data)) el.setAttribute(`data-${k}`, v);
  };

  return {
    ready: base.ready,
    setAccounts(accounts) {
      pins.clearLayers();
      container.dataset.accounts = String(accounts.length);
      for (const a of accounts) {
        const marker = L.marker([a.latitude, a.longitude], {
          icon: icon(`rep-pin st-${a.status} tier-${a.tier ?? 'none'}`, [PIN_SIZE[a.tier ?? ''] ?? 18, PIN_SIZE[a.tier ?? ''] ?? 18]),
          keyboard: true,
          title: a.name,
          riseOnHover: true,
        });
        pins.addLayer(marker);
        tag(marker, 'map-account', { id: a.id, status: a.status, tier: a.tier ?? '' });
        // The pin's own element takes the tap (and keeps it from the map, which would measure from there).
        const el = marker.getElement();
        if (el) {
          L.DomEvent.disableClickPropagation(el);
          L.DomEvent.on(el, 'click', (e) => {
            L.DomEvent.stop(e);
            options.onAccount(a.id);
          });
          L.DomEvent.on(el, 'keydown', (e) => {
            if ((e as KeyboardEvent).key === 'Enter') options.onAccount(a.id);
          });
        }
      }
    },
    setRoute(stops) {
      routeLayer.clearLayers();
      container.dataset.routeStops = String(stops.length);
      if (stops.length > 1) {
        const line = L.polyline(
          stops.map((s) => [s.latitude, s.longitude] as [number, number]),
          { color: '#0b5cab', weight: 4, opacity: 0.8, dashArray: '8 6', className: 'rep-route', interactive: false },
        );
        routeLayer.addLayer(line);
        line.getElement()?.setAttribute('data-testid', 'map-route');
      }
      for (const s of stops) {
        const marker = L.marker([s.latitude, s.longitude], { icon: icon('rep-stop', [22, 20], String(s.seq), [11, 32]), interactive: false, keyboard: false, zIndexOffset: 500 });
        routeLayer.addLayer(marker);
        tag(marker, 'map-stop', { seq: String(s.seq), account: s.accountId, status: s.status });
      }
    },
    setCentre(centre, kind) {
      centreLayer.clearLayers();
      if (!centre) return;
      const marker = L.marker([centre.latitude, centre.longitude], { icon: icon(kind === 'me' ? 'rep-me' : 'rep-me rep-place', [16, 16]), interactive: false, zIndexOffset: 1000 });
      centreLayer.addLayer(marker);
      tag(marker, 'map-centre', { kind });
    },
    fit(bounds) {
      if (bounds) map.fitBounds(bounds, { maxZoom: 13, padding: [24, 24] });
    },
    focus(place) {
      map.setView([place.latitude, place.longitude], Math.max(map.getZoom(), 12));
    },
    destroy() {
      base.remove();
      map.remove();
    },
  };
}
