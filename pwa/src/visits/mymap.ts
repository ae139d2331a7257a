// What the rep's map shows, read from the device only (so it works offline): my accounts with a
// pin, coloured by coverage status and sized by tier, each with its distance from my position or a
// chosen place; and today's plan in visiting order, the route drawn through the stops with a pin.
import type { CoverageStatus } from '../api/types';
import type { AppDB } from '../db/db';
import { todayIso } from '../db/local';
import { coverageStatus, type Targets } from './coverage';
import { distanceM, type LatLon } from './geo';
import { loadDay } from './store';

export interface MapAccount {
  id: string;
  name: string;
  code: string;
  city: string;
  tier: 'A' | 'B' | 'C' | null;
  status: CoverageStatus;
  latitude: number;
  longitude: number;
  lastVisitedOn: string | null;
  /** from the centre (my position or the chosen place); null without one */
  distanceM: number | null;
}

export interface RouteStop {
  planId: string;
  accountId: string;
  name: string;
  latitude: number;
  longitude: number;
  /** 1, 2, 3… in visiting order */
  seq: number;
  status: string;
}

export interface MyMapData {
  accounts: MapAccount[];
  /** accounts of mine on the device without a pin (not on the map) */
  unplaced: number;
  route: RouteStop[];
}

export interface MyMapOptions {
  /** the signed-in user: their accounts (a leader with none of their own sees every account on the device) */
  userId: string;
  centre: LatLon | null;
  today?: string;
  targets?: Targets;
  status?: CoverageStatus | '';
}

export async function loadMyMap(db: AppDB, options: MyMapOptions): Promise<MyMapData> {
  const today = options.today ?? todayIso();
  const all = await db.getAll('accounts');
  const mine = all.filter((a) => a.ownerId === options.userId);
  const rows = mine.length ? mine : all;
  let unplaced = 0;
  const accounts: MapAccount[] = [];
  for (const a of rows) {
    if (a.latitude === null || a.longitude === null) {
      unplaced++;
      continue;
    }
    const status = coverageStatus(a.tier, a.lastVisitedOn ?? null, today, options.targets);
    if (options.status && status !== options.status) continue;
    const c = options.centre;
    accounts.push({
      id: a.id,
      name: a.name,
      code: a.code,
      city: a.city,
      tier: a.tier,
      status,
      latitude: a.latitude,
      longitude: a.longitude,
      lastVisitedOn: a.lastVisitedOn ?? null,
      distanceM: c ? Math.round(distanceM(c.latitude, c.longitude, a.latitude, a.longitude)) : null,
    });
  }
  accounts.sort((x, y) => (x.distanceM ?? 0) - (y.distanceM ?? 0) || x.name.localeCompare(y.name));
  const day = await loadDay(db, today, 'planned', null, null, today);
  const route: RouteStop[] = [];
  for (const p of day.items) {
    if (p.latitude === null || p.longitude === null || (options.userId && p.ownerId && p.ownerId !== options.userId && mine.length)) continue;
    route.push({ planId: p.id, accountId: p.accountId, name: p.accountName, latitude: p.latitude, longitude: p.longitude, seq: route.length + 1, status: p.status });
  }
  return { accounts, unplaced, route };
}

/** [[south, west], [north, east]] around the points (null without any). */
export function boundsOf(points: readonly LatLon[]): [[number, number], [number, number]] | null {
  if (!points.length) return null;
  let s = 90;
  let w = 180;
  let n = -90;
  let e = -180;
  for (const p of points) {
    s = Math.min(s, p.latitude);
    n = Math.max(n, p.latitude);
    w = Math.min(w, p.longitude);
    e = Math.max(e, p.longitude);
  }
  return [
    [s, w],
    [n, e],
  ];
}
