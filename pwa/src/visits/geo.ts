// Distances, stop ordering and map links for field work. The server orders the day's plan (with
// geodesic distances); these run on the device when it is offline, and format what either made.

const EARTH_RADIUS_M = 6_371_008.8;

/** Great-circle distance in metres (haversine; within 0.5 % of the geodesic at city scale). */
export function distanceM(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(a)));
}

export interface LatLon {
  latitude: number;
  longitude: number;
}

export interface Stop {
  latitude: number | null;
  longitude: number | null;
}

export type Order = 'planned' | 'nearest' | 'route';

function located<T extends Stop>(s: T): s is T & LatLon {
  return s.latitude !== null && s.longitude !== null;
}

function between(a: LatLon, b: LatLon): number {
  return distanceM(a.latitude, a.longitude, b.latitude, b.longitude);
}

export interface Ordered<T> {
  items: (T & { distanceM: number | null })[];
  /** the path from the position (if any) through every stop with coordinates */
  totalDistanceM: number | null;
}

/** Put each stop's distance from the previous located stop (or the position) on it, and add them up. */
export function withLegs<T extends Stop>(stops: readonly T[], from: LatLon | null): Ordered<T> {
  let previous: LatLon | null = from;
  let total = 0;
  let any = false;
  const items = stops.map((s) => {
    if (!located(s)) return { ...s, distanceM: null };
    const leg = previous ? between(previous, s) : null;
    if (leg !== null) {
      total += leg;
      any = true;
    }
    previous = s;
    return { ...s, distanceM: leg };
  });
  return { items, totalDistanceM: any ? total : null };
}

/**
 * The stops in the order asked for: as planned; nearest first from the position; or a route (each
 * next stop the nearest to the last one, from the position). Stops without coordinates come last,
 * in their planned order. Without a position, nearest and route start at the first planned stop.
 */
export function orderStops<T extends Stop>(stops: readonly T[], order: Order, from: LatLon | null): Ordered<T> {
  if (order === 'planned') return withLegs(stops, from);
  const withCoords = stops.filter(located);
  const without = stops.filter((s) => !located(s));
  let ordered: (T & LatLon)[];
  if (order === 'nearest') {
    const origin = from ?? withCoords[0] ?? null;
    ordered = origin
      ? withCoords
          .map((s, i) => ({ s, i, d: between(origin, s) }))
          .sort((x, y) => x.d - y.d || x.i - y.i)
          .map((x) => x.s)
      : withCoords;
  } else {
    const left = withCoords.slice();
    ordered = [];
    let at: LatLon | null = from;
    while (left.length) {
      let best = 0;
      if (at) {
        let bestD = Infinity;
        left.forEach((s, i) => {
          const d = between(at!, s);
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        });
      }
      const [next] = left.splice(best, 1);
      ordered.push(next!);
      at = next!;
    }
  }
  return withLegs([...ordered, ...without], from);
}

/** "15 m", "850 m", "1.2 km", "35 km" (a number formatter for the language, and the unit words). */
export function formatDistance(m: number | null | undefined, units: { m: string; km: string } = { m: 'm', km: 'km' }, locale = 'en'): string {
  if (m === null || m === undefined || !Number.isFinite(m)) return '—';
  // Metres exactly up to 100 (a fix's accuracy), to the nearest 10 up to a kilometre.
  if (m < 1000) return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(m < 100 ? Math.round(m) : Math.round(m / 10) * 10)} ${units.m}`;
  const km = m / 1000;
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: km < 10 ? 1 : 0 }).format(km)} ${units.km}`;
}

/** How good a fix is for checking in: precise enough for the server to verify, coarse, or none. */
export type FixQuality = 'good' | 'poor' | 'none';

/** The server's default FIELDCRM_CHECKIN_LOW_ACCURACY_M: a coarser fix gets the verdict low_accuracy. */
export const POOR_ACCURACY_M = 150;

export function fixQuality(accuracyM: number | null | undefined, limitM = POOR_ACCURACY_M): FixQuality {
  if (accuracyM === null || accuracyM === undefined) return 'none';
  return accuracyM <= limitM ? 'good' : 'poor';
}

/**
 * A link that opens the phone's maps app at the account: `geo:` on Android (any maps app), an
 * Apple Maps https link on iOS, else an OpenStreetMap https link.
 */
export function navigateHref(lat: number, lon: number, label: string, userAgent = globalThis.navigator?.userAgent ?? ''): string {
  const ll = `${lat.toFixed(6)},${lon.toFixed(6)}`;
  if (/android/i.test(userAgent)) return `geo:${ll}?q=${ll}(${encodeURIComponent(label)})`;
  if (/iphone|ipad|ipod/i.test(userAgent)) return `https://maps.apple.com/?daddr=${ll}&q=${encodeURIComponent(label)}`;
  return `https://www.openstreetmap.org/directions?to=${encodeURIComponent(ll)}#map=17/${lat.toFixed(6)}/${lon.toFixed(6)}`;
}

/** A hex cell's fill for the share of its accounts covered: red (none) through amber to green (all). */
export function shareColour(share: number): string {
  const s = Math.max(0, Math.min(1, Number.isFinite(share) ? share : 0));
  // hue 0 (red) .. 120 (green)
  return `hsl(${Math.round(s * 120)}, 70%, 45%)`;
}
