import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { DB_VERSION, openAppDb } from '../src/db/db';
import type { DayPlan, Visit, VisitPlan } from '../src/api/types';
import { setLocale } from '../src/i18n';
import { distanceM, fixQuality, formatDistance, navigateHref, orderStops, shareColour, withLegs } from '../src/visits/geo';
import { fitWithin, photoProblem } from '../src/visits/photo';
import { addDays, isMissed, loadDay } from '../src/visits/store';
import { durationSeconds, rowKey, accountOf } from '../src/sync/mutations';
import { enqueue } from '../src/sync/outbox';
import { applyPullPage } from '../src/sync/pull';
import { fixState } from '../src/ui/screens/checkin';
import { mapQuery, percent } from '../src/ui/screens/coverage';
import { distanceText, durationText } from '../src/ui/screens/visit-bits';
import { account, engine, FakeApi, freshDb, page } from './helpers';

const author = { id: 'u-rep', name: '钱萍' };

// Jinan: three customers along Jingshi Road, one across the river, one without a location.
const HERE = { latitude: 36.6512, longitude: 117.1201 };
const A = { latitude: 36.6515, longitude: 117.1208 }; // ~70 m
const B = { latitude: 36.6601, longitude: 117.0503 }; // ~6.3 km west
const C = { latitude: 36.6551, longitude: 117.1402 }; // ~1.8 km east
const FAR = { latitude: 36.7402, longitude: 117.0011 }; // ~14 km north-west

function stop(id: string, at: { latitude: number; longitude: number } | null) {
  return { id, latitude: at?.latitude ?? null, longitude: at?.longitude ?? null };
}

function plan(id: string, over: Partial<VisitPlan> = {}): VisitPlan {
  return {
    id,
    accountId: `acc-${id}`,
    accountName: `Account ${id}`,
    accountAddress: '',
    accountTier: 'A',
    latitude: null,
    longitude: null,
    ownerId: 'u-rep',
    ownerName: '钱萍',
    date: '2026-11-24',
    purpose: '',
    status: 'planned',
    visitId: null,
    ...over,
  };
}

describe('distances and ordering', () => {
  it('measures great-circle distances close to the geodesic', () => {
    expect(distanceM(HERE.latitude, HERE.longitude, HERE.latitude, HERE.longitude)).toBe(0);
    // 1° of latitude is ~111.0 km at this latitude (geodesic 110.99 km)
    expect(distanceM(36, 117, 37, 117)).toBeGreaterThan(110_800);
    expect(distanceM(36, 117, 37, 117)).toBeLessThan(111_400);
    // Jinan to Qingdao: geodesic ~ 300 km
    const d = distanceM(36.6512, 117.1201, 36.0671, 120.3826);
    expect(d).toBeGreaterThan(295_000);
    expect(d).toBeLessThan(305_000);
  });

  it('planned keeps the order; legs go from the previous located stop', () => {
    const o = orderStops([stop('b', B), stop('x', null), stop('a', A), stop('c', C)], 'planned', null);
    expect(o.items.map((s) => s.id)).toEqual(['b', 'x', 'a', 'c']);
    expect(o.items[0]!.distanceM).toBeNull(); // no position: the first stop has no leg
    expect(o.items[1]!.distanceM).toBeNull(); // no location
    expect(o.items[2]!.distanceM).toBeCloseTo(distanceM(B.latitude, B.longitude, A.latitude, A.longitude), 3);
    expect(o.totalDistanceM).toBeCloseTo(o.items[2]!.distanceM! + o.items[3]!.distanceM!, 3);
  });

  it('nearest puts the closest first from the position; stops without a location come last', () => {
    const o = orderStops([stop('far', FAR), stop('x', null), stop('b', B), stop('a', A), stop('c', C)], 'nearest', HERE);
    expect(o.items.map((s) => s.id)).toEqual(['a', 'c', 'b', 'far', 'x']);
    expect(o.items[0]!.distanceM).toBeGreaterThan(50);
    expect(o.items[0]!.distanceM).toBeLessThan(100);
  });

  it('route goes to the nearest next stop each time, and is not longer than the planned order', () => {
    const stops = [stop('far', FAR), stop('c', C), stop('b', B), stop('a', A)];
    const route = orderStops(stops, 'route', HERE);
    expect(route.items.map((s) => s.id)).toEqual(['a', 'c', 'b', 'far']);
    const planned = withLegs(stops, HERE);
    expect(route.totalDistanceM!).toBeLessThan(planned.totalDistanceM!);
    const sum = route.items.reduce((n, s) => n + (s.distanceM ?? 0), 0);
    expect(route.totalDistanceM).toBeCloseTo(sum, 3);
  });

  it('without a position, nearest and route start at the first planned stop', () => {
    expect(orderStops([stop('c', C), stop('b', B), stop('a', A)], 'route', null).items.map((s) => s.id)).toEqual(['c', 'a', 'b']);
    expect(orderStops([stop('x', null)], 'nearest', null).totalDistanceM).toBeNull();
  });

  it('formats distances for people', () => {
    expect(formatDistance(null)).toBe('—');
    expect(formatDistance(3)).toBe('3 m');
    expect(formatDistance(15.4)).toBe('15 m');
    expect(formatDistance(847)).toBe('850 m');
    expect(formatDistance(1234)).toBe('1.2 km');
    expect(formatDistance(35_400)).toBe('35 km');
    setLocale('zh-CN');
    expect(distanceText(1234)).toBe('1.2 公里');
    expect(durationText(2 * 3600 + 5 * 60)).toBe('2 小时 05 分钟');
    setLocale('en');
    expect(distanceText(640)).toBe('640 m');
    expect(durationText(45)).toBe('45 s');
    expect(durationText(12 * 60 + 20)).toBe('12 min');
    expect(durationText(null)).toBe('—');
  });

  it('opens the phone’s maps app at the account', () => {
    expect(navigateHref(36.6515, 117.1208, '济南钢铁', 'Mozilla/5.0 (Linux; Android 14)')).toBe(
      `geo:36.651500,117.120800?q=36.651500,117.120800(${encodeURIComponent('济南钢铁')})`,
    );
    expect(navigateHref(36.6515, 117.1208, 'x', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)')).toMatch(/^https:\/\/maps\.apple\.com\/\?daddr=36\.651500,117\.120800/);
    expect(navigateHref(36.6515, 117.1208, 'x', 'Mozilla/5.0 (X11; Linux x86_64)')).toMatch(/^https:\/\/www\.openstreetmap\.org\/directions\?to=/);
  });

  it('judges a fix as the check-in screen shows it', () => {
    expect(fixQuality(null)).toBe('none');
    expect(fixQuality(25, 200)).toBe('good');
    expect(fixQuality(150, 200)).toBe('good');
    expect(fixQuality(450, 200)).toBe('poor');
    expect(fixState(null)).toBe('locating');
    expect(fixState({ ok: false, error: 'denied' })).toBe('denied');
    expect(fixState({ ok: false, error: 'timeout' })).toBe('none');
    expect(fixState({ ok: true, fix: { latitude: 1, longitude: 1, accuracyM: 1500, fixAt: '' } })).toBe('poor');
  });

  it('colours hexagons from red (none covered) to green (all), and builds map queries', () => {
    expect(shareColour(0)).toBe('hsl(0, 70%, 45%)');
    expect(shareColour(1)).toBe('hsl(120, 70%, 45%)');
    expect(shareColour(0.5)).toBe('hsl(60, 70%, 45%)');
    expect(shareColour(Number.NaN)).toBe('hsl(0, 70%, 45%)');
    expect(percent(0.666)).toBe('67%');
    const q = new URLSearchParams(mapQuery({ bbox: '116.9,36.5,117.3,36.8', zoom: 11 }, { tier: 'A', status: '', team: 'ou-1' }));
    expect(Object.fromEntries(q)).toEqual({ bbox: '116.9,36.5,117.3,36.8', zoom: '11', tier: 'A', orgUnitId: 'ou-1' });
  });

  it('scales photos down and refuses what the server would', () => {
    expect(fitWithin(4000, 3000)).toEqual({ width: 1600, height: 1200 });
    expect(fitWithin(900, 1600)).toEqual({ width: 900, height: 1600 });
    expect(fitWithin(1200, 5000)).toEqual({ width: 384, height: 1600 });
    expect(photoProblem({ size: 1000, type: 'image/heic' })).toBe('type');
    expect(photoProblem({ size: 6 * 1024 * 1024, type: 'image/jpeg' })).toBe('size');
    expect(photoProblem({ size: 300_000, type: 'image/png' })).toBeNull();
  });
});

describe('the day view', () => {
  it('marks plans from earlier days that went unvisited as missed', () => {
    expect(addDays('2026-11-24', -1)).toBe('2026-11-23');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(isMissed(plan('p', { date: '2026-11-23' }), '2026-11-24')).toBe(true);
    expect(isMissed(plan('p', { date: '2026-11-24' }), '2026-11-24')).toBe(false);
    expect(isMissed(plan('p', { date: '2026-11-23', status: 'done', visitId: 'v' }), '2026-11-24')).toBe(false);
    expect(isMissed(plan('p', { date: '2026-11-20', status: 'missed' }), '2026-11-24')).toBe(true);
    expect(isMissed(plan('p', { date: '2026-11-20', status: 'cancelled' }), '2026-11-24')).toBe(false);
  });

  it('orders the device’s plans itself offline, and follows the server’s order online', async () => {
    const db = await freshDb();
    const tx = db.transaction('plans', 'readwrite');
    await tx.store.put({ ...plan('b', { ...B }), _seq: 0 });
    await tx.store.put({ ...plan('a', { ...A }), _seq: 1 });
    await tx.store.put({ ...plan('c', { ...C }), _seq: 2 });
    await tx.store.put({ ...plan('gone', { ...C, status: 'cancelled' }), _seq: 3 });
    await tx.store.put({ ...plan('old', { ...C, date: '2026-11-21' }), _seq: 0 });
    await tx.store.put({ ...plan('old-done', { ...C, date: '2026-11-22', status: 'done', visitId: 'v1' }), _seq: 0 });
    await tx.done;

    const planned = await loadDay(db, '2026-11-24', 'planned', null, null, '2026-11-24');
    expect(planned.items.map((p) => p.id)).toEqual(['b', 'a', 'c']);
    expect(planned.source).toBe('device');
    expect(planned.missed.map((p) => p.id)).toEqual(['old']);

    const nearest = await loadDay(db, '2026-11-24', 'nearest', HERE, null, '2026-11-24');
    expect(nearest.items.map((p) => p.id)).toEqual(['a', 'c', 'b']);
    expect(nearest.totalDistanceM!).toBeGreaterThan(0);
    expect(nearest.plannedDistanceM).toBe(planned.totalDistanceM);

    const server = { order: 'route' as const, ids: ['c', 'a', 'b'], legs: new Map([['c', 1800], ['a', 1790], ['b', 6300]]), totalDistanceM: 9890, plannedDistanceM: 12000 };
    const routed = await loadDay(db, '2026-11-24', 'route', HERE, server, '2026-11-24');
    expect(routed.source).toBe('server');
    expect(routed.items.map((p) => [p.id, p.distanceM])).toEqual([['c', 1800], ['a', 1790], ['b', 6300]]);
    expect(routed.totalDistanceM).toBe(9890);
    expect(routed.plannedDistanceM).toBe(12000);
  });
});

describe('visit mutations', () => {
  async function seeded() {
    const db = await freshDb();
    await applyPullPage(db, page({ reset: true, accounts: [account({ id: 'a1', name: '济南钢铁', ...A, visitRadiusM: 200 })] }), {
      clearFirst: true,
      inSnapshot: false,
      author,
    });
    return db;
  }

  it('names the rows they change', () => {
    expect(rowKey({ name: 'visit.checkin', args: { id: 'v1', accountId: 'a1' } })).toBe('visits:v1');
    expect(rowKey({ name: 'visit.log', args: { visitId: 'v1', purpose: '', outcome: '', contactIds: [], notes: '', nextStep: '', followUpDate: null } })).toBe('visits:v1');
    expect(rowKey({ name: 'plan.update', args: { id: 'p1', cancelled: true } })).toBe('plans:p1');
    expect(accountOf({ name: 'plan.create', args: { id: 'p1', accountId: 'a1', date: '2026-11-24', purpose: '' } })).toBe('a1');
    expect(accountOf({ name: 'visit.checkout', args: { visitId: 'v1' } })).toBe('');
    expect(durationSeconds('2026-11-24T02:00:00Z', '2026-11-24T02:47:30Z')).toBe(2850);
    expect(durationSeconds('2026-11-24T02:00:00Z', '2026-11-24T01:00:00Z')).toBe(0);
  });

  it('a check-in shows on the device at once, verdict pending, and marks its plan done', async () => {
    const db = await seeded();
    await db.put('plans', { ...plan('p1', { accountId: 'a1' }), _seq: 0 });
    const m = await enqueue(
      db,
      { name: 'visit.checkin', args: { id: 'v1', accountId: 'a1', planId: 'p1', latitude: HERE.latitude, longitude: HERE.longitude, accuracyM: 12, fixAt: '2026-11-24T02:00:00Z' } },
      author,
      new Date('2026-11-24T02:00:05Z'),
    );
    expect(m.capturedAt).toBe('2026-11-24T02:00:05.000Z');
    const v = (await db.get('visits', 'v1'))!;
    expect(v).toMatchObject({ accountId: 'a1', accountName: '济南钢铁', userId: 'u-rep', verdict: 'pending', checkedInAt: m.capturedAt, _pending: true, _local: true });
    expect(v.distanceM).toBeGreaterThan(50);
    expect(v.distanceM).toBeLessThan(100);
    expect(await db.get('plans', 'p1')).toMatchObject({ status: 'done', visitId: 'v1' });

    await enqueue(db, { name: 'visit.log', args: { visitId: 'v1', purpose: '续约', outcome: '同意续约', contactIds: ['c1'], notes: '', nextStep: '报价', followUpDate: '2026-12-01' } }, author);
    await enqueue(db, { name: 'visit.checkout', args: { visitId: 'v1' } }, author, new Date('2026-11-24T02:40:05Z'));
    expect(await db.get('visits', 'v1')).toMatchObject({ outcome: '同意续约', contactIds: ['c1'], followUpDate: '2026-12-01', durationS: 2400, checkedOutAt: '2026-11-24T02:40:05.000Z' });
  });

  it('a check-in without a plan fulfils that day’s open plan for the account, as the server does', async () => {
    const db = await seeded();
    const day = '2026-11-24';
    await db.put('plans', { ...plan('p1', { accountId: 'a1', date: day }), _seq: 0 });
    await db.put('plans', { ...plan('p2', { accountId: 'other', date: day }), _seq: 1 });
    await enqueue(db, { name: 'visit.checkin', args: { id: 'v1', accountId: 'a1' } }, author, new Date(2026, 10, 24, 10, 0));
    expect(await db.get('plans', 'p1')).toMatchObject({ status: 'done', visitId: 'v1' });
    expect(await db.get('plans', 'p2')).toMatchObject({ status: 'planned', visitId: null });
  });

  it('the push carries sentAt; after it the record waits for the server’s copy', async () => {
    const db = await seeded();
    await enqueue(db, { name: 'visit.checkin', args: { id: 'v1', accountId: 'a1' } }, author);
    const api = new FakeApi();
    const summary = await engine(db, api, () => Date.parse('2026-11-24T03:00:00Z')).run();
    expect(summary.outcome).toBe('ok');
    const push = api.calls.find((c) => c.path === '/api/sync/push')!.body as { sentAt: string; mutations: { name: string; args: unknown }[] };
    expect(push.sentAt).toBe('2026-11-24T03:00:00.000Z');
    expect(push.mutations[0]).toMatchObject({ name: 'visit.checkin', args: { id: 'v1', accountId: 'a1' } });
    const v = (await db.get('visits', 'v1'))!;
    expect(v._local).toBeUndefined();
    expect(v._pending).toBeUndefined();
    expect(v._stale).toBe(true);
  });

  it('a rejected check-in leaves the device; a rejected plan change goes back', async () => {
    const db = await seeded();
    await db.put('plans', { ...plan('p1', { accountId: 'a1', purpose: 'old' }), _seq: 0 });
    await enqueue(db, { name: 'visit.checkin', args: { id: 'v1', accountId: 'a1' } }, author);
    await enqueue(db, { name: 'plan.update', args: { id: 'p1', purpose: 'new', cancelled: true } }, author);
    await enqueue(db, { name: 'plan.create', args: { id: 'p2', accountId: 'a1', date: '2026-11-25', purpose: '回访' } }, author);
    expect(await db.get('plans', 'p1')).toMatchObject({ purpose: 'new', status: 'cancelled', _pending: true });
    expect(await db.get('plans', 'p2')).toMatchObject({ accountName: '济南钢铁', ownerId: 'u-rep', status: 'planned', _pending: true });
    const api = new FakeApi();
    api.push = (body) => ({
      status: 200,
      body: { lastMutationId: body.mutations.at(-1)!.id, results: body.mutations.map((m) => ({ id: m.id, status: 'rejected', code: 'forbidden', message: 'no' })) },
    });
    await engine(db, api).run();
    expect(await db.get('visits', 'v1')).toBeUndefined();
    expect(await db.get('plans', 'p1')).toMatchObject({ purpose: 'old', status: 'planned' });
    expect((await db.get('plans', 'p1'))!._pending).toBeUndefined();
    expect(await db.get('plans', 'p2')).toBeUndefined();
    expect(await db.count('rejected')).toBe(3);
  });

  it('a pull that resets the device keeps visits and plans (the feed does not carry them)', async () => {
    const db = await seeded();
    await enqueue(db, { name: 'visit.checkin', args: { id: 'v1', accountId: 'a1' } }, author);
    await applyPullPage(db, page({ reset: true, accounts: [account({ id: 'a1' })] }), { clearFirst: true, inSnapshot: false, author });
    expect(await db.get('visits', 'v1')).toMatchObject({ verdict: 'pending', _local: true });
  });
});

describe('the database upgrade', () => {
  it('version 2 adds the field-work stores and keeps the queue of an installed version 1', async () => {
    const name = `upgrade-${Date.now()}`;
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        db.createObjectStore('meta');
        db.createObjectStore('accounts', { keyPath: 'id' }).createIndex('byParent', 'parentId');
        for (const store of ['contacts', 'holdings', 'notes']) db.createObjectStore(store, { keyPath: 'id' }).createIndex('byAccount', 'accountId');
        db.createObjectStore('revenue', { keyPath: 'accountId' });
        db.createObjectStore('outbox', { keyPath: 'id' });
        db.createObjectStore('rejected', { keyPath: 'key', autoIncrement: true });
        db.createObjectStore('extras', { keyPath: 'accountId' });
      },
    });
    await v1.put('outbox', { id: 7, name: 'account.note', args: { id: 'n1', accountId: 'a1', text: 'x' }, capturedAt: '2026-11-24T01:00:00Z' });
    v1.close();
    const db = await openAppDb({ name });
    expect(DB_VERSION).toBeGreaterThanOrEqual(2); // later versions (3: selling) keep what 2 added
    expect([...db.objectStoreNames]).toEqual(expect.arrayContaining(['visits', 'plans', 'photos', 'cache', 'outbox']));
    expect((await db.getAll('outbox')).map((m) => m.id)).toEqual([7]);
    db.close();
  });
});

// The API shapes the screens rely on (generated from the server's OpenAPI document).
export type _Shapes = [Visit['verdict'], DayPlan['order']];
