// Field work on the device: plans and visits come with the sync pull (a server without them: they
// are fetched when online and kept in IndexedDB for offline reading); check-ins, logs and plans made
// here are mutations (src/sync/mutations.ts) with a local record at once. After a sync the device's
// records are replaced by the server's (with its verdict), and photos taken offline are uploaded.
import type { App } from '../app';
import type { DayPlan, PlanOrder, Visit, VisitPage, VisitPlan, VisitPlanPage } from '../api/types';
import { fieldDayFeed, type AppDB, type LocalPlan, type LocalVisit } from '../db/db';
import { todayIso } from '../db/local';
import { replay } from '../sync/mutations';
import { writeTx } from '../sync/outbox';
import { orderStops, type LatLon, type Order } from './geo';

export const MISSED_LOOKBACK_DAYS = 14;

export function addDays(isoDate: string, n: number): string {
  const [y, m, d] = isoDate.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d + n));
  return date.toISOString().slice(0, 10);
}

/** Whether a plan from an earlier day went unvisited (the server says "missed"; the device can tell too). */
export function isMissed(plan: Pick<VisitPlan, 'date' | 'status' | 'visitId'>, today: string): boolean {
  return plan.status === 'missed' || (plan.status === 'planned' && !plan.visitId && plan.date < today);
}

/** Keep server visits: queued changes to them are replayed on top, in the same transaction. */
export async function storeVisits(app: App, visits: readonly Visit[]): Promise<void> {
  if (!visits.length) return;
  const tx = writeTx(app.db);
  const store = tx.objectStore('visits');
  await Promise.all(visits.map((v) => store.put({ ...v })));
  await replay(tx, new Set(visits.map((v) => `visits:${v.id}`)), app.author());
  await tx.done;
}

/**
 * Keep a day's (or a range's) plans from the server: plans of those dates that the server no longer
 * lists (and that wait for nothing here) go; queued changes are replayed on top.
 */
export async function storePlans(app: App, plans: readonly VisitPlan[], dates: readonly string[]): Promise<void> {
  const tx = writeTx(app.db);
  const store = tx.objectStore('plans');
  const listed = new Set(plans.map((p) => p.id));
  const byDate = store.index('byDate');
  for (const date of dates) {
    for (const row of await byDate.getAll(date)) {
      if (!listed.has(row.id) && !row._pending && row._base === undefined) await store.delete(row.id);
    }
  }
  const existing = await Promise.all(plans.map((p) => store.get(p.id)));
  await Promise.all(
    plans.map((p, i) => {
      const { distanceM, ...rest } = p;
      void distanceM;
      return store.put({ ...rest, _seq: existing[i]?._seq ?? i });
    }),
  );
  await replay(tx, new Set(plans.map((p) => `plans:${p.id}`)), app.author());
  await tx.done;
}

/** The server's order and distances for a day, remembered for this session only (positions move). */
export interface ServerOrder {
  order: PlanOrder;
  ids: string[];
  legs: Map<string, number | null>;
  totalDistanceM: number | null;
  plannedDistanceM: number | null;
}

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

/** GET the day's plan in an order (null offline or on failure); its plans are kept on the device. */
export async function fetchDay(app: App, date: string, order: Order, at: LatLon | null): Promise<ServerOrder | null> {
  const result = await app.api.get<DayPlan>(
    `/api/visit-plans/day?${query({ date, order, lat: at?.latitude, lon: at?.longitude })}`,
  );
  if (!result.ok) return null;
  const day = result.data;
  await storePlans(app, day.items, [date]);
  if (order === 'planned') {
    // the planned order is the order of record (offline ordering starts from it)
    const tx = app.db.transaction('plans', 'readwrite');
    await Promise.all(
      day.items.map(async (p, i) => {
        const row = await tx.store.get(p.id);
        if (row) await tx.store.put({ ...row, _seq: i });
      }),
    );
    await tx.done;
  }
  await app.db.put('cache', { key: `day:${date}`, at: new Date().toISOString(), data: null });
  return {
    order: day.order,
    ids: day.items.map((p) => p.id),
    legs: new Map(day.items.map((p) => [p.id, p.distanceM ?? null])),
    totalDistanceM: day.totalDistanceM,
    plannedDistanceM: day.plannedDistanceM,
  };
}

/** Plans from earlier days that went unvisited (kept on the device too). */
export async function fetchMissed(app: App, today: string): Promise<boolean> {
  const from = addDays(today, -MISSED_LOOKBACK_DAYS);
  const to = addDays(today, -1);
  const ownerId = app.me?.user.id;
  const result = await app.api.get<VisitPlanPage>(`/api/visit-plans?${query({ from, to, status: 'missed', ownerId, limit: 100 })}`);
  if (!result.ok) return false;
  const tx = writeTx(app.db);
  const store = tx.objectStore('plans');
  // Earlier days: what the server no longer calls missed (visited, moved, cancelled) stops showing.
  const listed = new Set(result.data.items.map((p) => p.id));
  const range = IDBKeyRange.bound(from, to);
  for (const row of await store.index('byDate').getAll(range)) {
    if (!listed.has(row.id) && !row._pending && row._base === undefined && isMissed(row, today)) await store.delete(row.id);
  }
  for (const p of result.data.items) {
    const { distanceM, ...rest } = p;
    void distanceM;
    await store.put({ ...rest, _seq: (await store.get(p.id))?._seq ?? 0 });
  }
  await replay(tx, new Set(result.data.items.map((p) => `plans:${p.id}`)), app.author());
  await tx.done;
  return true;
}

export interface DayView {
  date: string;
  items: (LocalPlan & { distanceM: number | null; missed: boolean })[];
  missed: (LocalPlan & { missed: boolean })[];
  totalDistanceM: number | null;
  plannedDistanceM: number | null;
  /** where the order and distances come from */
  source: 'server' | 'device';
}

/** A day's plan from the device, in the server's order when one is known, else ordered here. */
export async function loadDay(db: AppDB, date: string, order: Order, at: LatLon | null, server: ServerOrder | null, today = todayIso()): Promise<DayView> {
  const rows = (await db.getAllFromIndex('plans', 'byDate', date)).filter((p) => p.status !== 'cancelled');
  rows.sort((x, y) => (x._seq ?? 0) - (y._seq ?? 0) || x.accountName.localeCompare(y.accountName));
  const earlier = (await db.getAllFromIndex('plans', 'byDate', IDBKeyRange.bound(addDays(today, -MISSED_LOOKBACK_DAYS), addDays(today, -1))))
    .filter((p) => isMissed(p, today) && date === today)
    .sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0))
    .map((p) => ({ ...p, missed: true }));
  const planned = orderStops(rows, 'planned', null);
  let items: DayView['items'];
  let total: number | null;
  let source: DayView['source'] = 'device';
  if (server && server.order === order && rows.every((r) => server.ids.includes(r.id))) {
    const index = new Map(server.ids.map((id, i) => [id, i]));
    items = rows
      .slice()
      .sort((x, y) => index.get(x.id)! - index.get(y.id)!)
      .map((p) => ({ ...p, distanceM: server.legs.get(p.id) ?? null, missed: isMissed(p, today) }));
    total = server.totalDistanceM;
    source = 'server';
  } else {
    const ordered = orderStops(rows, order, order === 'planned' ? null : at);
    items = ordered.items.map((p) => ({ ...p, missed: isMissed(p, today) }));
    total = ordered.totalDistanceM;
  }
  return {
    date,
    items,
    missed: earlier,
    totalDistanceM: total,
    plannedDistanceM: source === 'server' ? (server?.plannedDistanceM ?? planned.totalDistanceM) : planned.totalDistanceM,
    source,
  };
}

/** An account's visits on the device, newest first. */
export async function loadAccountVisits(db: AppDB, accountId: string, limit = 50): Promise<LocalVisit[]> {
  const rows = await db.getAllFromIndex('visits', 'byAccount', accountId);
  rows.sort((x, y) => (x.checkedInAt < y.checkedInAt ? 1 : x.checkedInAt > y.checkedInAt ? -1 : 0));
  return rows.slice(0, limit);
}

export async function fetchAccountVisits(app: App, accountId: string): Promise<boolean> {
  const result = await app.api.get<VisitPage>(`/api/visits?${query({ accountId, limit: 50 })}`);
  if (!result.ok) return false;
  await storeVisits(app, result.data.items);
  return true;
}

/** The signed-in person's recent visits (kept for offline reading). */
export async function fetchRecentVisits(app: App, days = 30): Promise<boolean> {
  const userId = app.me?.user.id;
  if (!userId) return false;
  const result = await app.api.get<VisitPage>(`/api/visits?${query({ userId, from: addDays(todayIso(), -days), limit: 100 })}`);
  if (!result.ok) return false;
  await storeVisits(app, result.data.items);
  return true;
}

let refreshing: Promise<void> | null = null;

/**
 * After a sync: fetch the server's copy of every visit the device changed (its verdict, flags and
 * the corrected time), then upload photos kept while offline. One run at a time.
 */
export function refreshAfterSync(app: App): Promise<void> {
  if (!refreshing) {
    refreshing = (async () => {
      // The pull carries plans and visits (with the server's verdicts): only photos are left to do.
      if (await fieldDayFeed(app.db)) {
        if (await uploadPhotos(app)) app.events.emit('data', { reset: false });
        return;
      }
      const stale = (await app.db.getAll('visits')).filter((v) => v._stale && !v._local);
      const fetched: Visit[] = [];
      for (const v of stale) {
        const result = await app.api.get<Visit>(`/api/visits/${encodeURIComponent(v.id)}`);
        if (result.ok) fetched.push(result.data);
        else if (result.status === 404) await app.db.delete('visits', v.id);
        else if (result.status === 0) break;
      }
      await storeVisits(app, fetched);
      const uploaded = await uploadPhotos(app);
      // Keep today's plan and recent visits on the device for a day without a network, even if
      // the Today screen was not opened while online.
      const prefetched = await prefetchToday(app);
      if (fetched.length || stale.length || uploaded || prefetched) app.events.emit('data', { reset: false });
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export const PREFETCH_EVERY_MS = 10 * 60_000;

/** Fetch today's plan (planned order), missed plans and recent visits if the copy here is older than 10 minutes. */
export async function prefetchToday(app: App, now = Date.now()): Promise<boolean> {
  const today = todayIso(new Date(now));
  const cached = await app.db.get('cache', `day:${today}`);
  if (cached && now - Date.parse(cached.at) < PREFETCH_EVERY_MS) return false;
  const day = await fetchDay(app, today, 'planned', null);
  if (!day) return false;
  await fetchMissed(app, today);
  await fetchRecentVisits(app);
  return true;
}

/** Upload the photos waiting on the device for visits the server has; returns how many went. */
export async function uploadPhotos(app: App): Promise<number> {
  let sent = 0;
  for (const photo of await app.db.getAll('photos')) {
    const visit = await app.db.get('visits', photo.visitId);
    if (!visit) {
      await app.db.delete('photos', photo.visitId);
      continue;
    }
    if (visit._local) continue; // the check-in itself has not reached the server yet
    const blob = photo.blob.type ? photo.blob : new Blob([photo.blob], { type: photo.type });
    const result = await app.api.send<Visit>('PUT', `/api/visits/${encodeURIComponent(photo.visitId)}/photo`, blob);
    if (result.ok) {
      await app.db.delete('photos', photo.visitId);
      await storeVisits(app, [result.data]);
      sent++;
    } else if (result.status === 0 || result.status >= 500 || result.status === 401 || result.status === 429) {
      break; // try again after the next sync
    } else {
      // The server will never take it (too big, wrong type, not allowed): say so and drop it.
      await app.db.delete('photos', photo.visitId);
      app.toast(result.problem?.detail ?? `HTTP ${result.status}`);
    }
  }
  return sent;
}

/** Keep a photo for a visit (replacing an earlier one) until it can be uploaded. */
export async function keepPhoto(db: AppDB, visitId: string, blob: Blob): Promise<void> {
  await db.put('photos', { visitId, blob, type: blob.type || 'image/jpeg', addedAt: new Date().toISOString() });
}
