// The field day on the device: what is made offline (account.create, quote.submit, case.create),
// what the pull brings (plans, visits, selling, cases, projects, tasks, their deletes and resets),
// sign-out's guard, the quote form's rules, coverage on the device and the rep's map.
import { beforeEach, describe, expect, it } from 'vitest';
import { setLocale } from '../src/i18n';
import { fieldDayFeed, type AppDB } from '../src/db/db';
import { enqueue } from '../src/sync/outbox';
import { applyPullPage, carriesFieldDay } from '../src/sync/pull';
import { guardSignOut, mustAsk, PendingChangesError, signOutRisk } from '../src/sync/signout';
import { PRODUCTS_KEY } from '../src/sales/mutations';
import { validateOpportunity, validateQuote, yuanError, type LineDraft } from '../src/sales/validate';
import { withLocalCases } from '../src/sales/store';
import type { Case, Opportunity, Product, Quote } from '../src/sales/types';
import type { Visit, VisitPlan } from '../src/api/types';
import { coverageStatus } from '../src/visits/coverage';
import { boundsOf, loadMyMap } from '../src/visits/mymap';
import { lookAlikes, normaliseName, validateNewAccount } from '../src/ui/screens/account-new';
import { account, engine, FakeApi, freshDb, page } from './helpers';

const author = { id: 'u-rep', name: '钱萍' };

beforeEach(() => setLocale('en'));

function product(id: string, listPriceCents: number, maxDiscountBp = 500): Product {
  return { id, code: id.toUpperCase(), name: `Product ${id}`, unit: '条', category: '专线', listPriceCents, maxDiscountBp, active: true, version: 1, createdAt: '', updatedAt: '' };
}

function plan(id: string, accountId: string, overrides: Partial<VisitPlan> = {}): VisitPlan {
  return {
    id,
    accountId,
    accountName: `Account ${accountId}`,
    accountAddress: '',
    accountTier: 'B',
    latitude: 36.65,
    longitude: 117.0,
    ownerId: 'u-rep',
    ownerName: '钱萍',
    date: '2026-12-04',
    purpose: '',
    status: 'planned',
    visitId: null,
    ...overrides,
  };
}

function opportunity(id: string, accountId: string): Opportunity {
  return {
    id,
    accountId,
    accountName: 'A',
    ownerId: 'u-rep',
    ownerName: '钱萍',
    name: `Opp ${id}`,
    stage: 'lead',
    probability: 10,
    amountCents: 100_00,
    weightedCents: 10_00,
    expectedClose: null,
    productIds: [],
    competitor: '',
    nextStep: '',
    lostReason: '',
    closedAt: null,
    version: 1,
    createdAt: '2026-12-01T00:00:00Z',
    updatedAt: '2026-12-01T00:00:00Z',
  } as Opportunity;
}

function serverCase(id: string, accountId: string): Case {
  return {
    id,
    accountId,
    accountName: 'A',
    ownerId: 'u-rep',
    ownerName: '钱萍',
    type: 'fault',
    priority: 'normal',
    title: `Case ${id}`,
    description: '',
    state: 'open',
    lastStep: '',
    dueAt: '2026-12-05T00:00:00Z',
    overdue: false,
    resolvedAt: null,
    steps: [],
    version: 1,
    createdAt: '2026-12-01T00:00:00Z',
    updatedAt: '2026-12-01T00:00:00Z',
  };
}

function visit(id: string, accountId: string): Visit {
  return { id, accountId, accountName: 'A', userId: 'u-rep', userName: '钱萍', checkedInAt: '2026-12-01T02:00:00Z', verdict: 'verified', flags: [] } as unknown as Visit;
}

async function seedAccounts(db: AppDB, ...accounts: ReturnType<typeof account>[]): Promise<void> {
  await applyPullPage(db, page({ reset: true, accounts }), { clearFirst: true, inSnapshot: false, author });
}

async function draftQuote(db: AppDB, id: string, accountId: string): Promise<void> {
  await db.put('cache', { key: PRODUCTS_KEY, at: '', data: [product('p1', 100_000)] });
  await enqueue(db, { name: 'quote.create', args: { id, accountId, lines: [{ productId: 'p1', quantity: 3, discountBp: 1200 }], title: '', opportunityId: null, validUntil: null, notes: '' } }, author);
}

describe('made offline', () => {
  it('a quote submitted offline is kept: its draft and the submit wait in the outbox, in that order', async () => {
    const db = await freshDb();
    await seedAccounts(db, account({ id: 'a1' }));
    await draftQuote(db, 'q1', 'a1');
    await enqueue(db, { name: 'quote.submit', args: { id: 'q1', baseVersion: null, comment: '' } }, author);
    expect((await db.getAll('outbox')).map((m) => m.name)).toEqual(['quote.create', 'quote.submit']);
    const row = await db.get('quotes', 'q1');
    expect(row?.state).toBe('submitted');
    expect(row?._pending).toBe(true);
    expect(row?.totalCents).toBe(264_000);
  });

  it('a refused submit leaves the quote a draft on the device (its create went through) and fetches it again', async () => {
    const db = await freshDb();
    await seedAccounts(db, account({ id: 'a1' }));
    await draftQuote(db, 'q1', 'a1');
    await enqueue(db, { name: 'quote.submit', args: { id: 'q1', baseVersion: null, comment: '' } }, author);
    const api = new FakeApi();
    api.push = (body) => ({
      status: 200,
      body: {
        lastMutationId: body.mutations.at(-1)!.id,
        results: body.mutations.map((m) => (m.name === 'quote.submit' ? { id: m.id, status: 'rejected', code: 'conflict', message: 'it is approved on the server now' } : { id: m.id, status: 'applied' })),
      },
    });
    await engine(db, api).run();
    const row = await db.get('quotes', 'q1');
    expect(row?.state).toBe('draft');
    expect(row?._stale).toBe(true);
    const rejected = await db.getAll('rejected');
    expect(rejected.map((r) => [r.mutation.name, r.code])).toEqual([['quote.submit', 'conflict']]);
  });

  it('a new prospect is on the device at once, without a pin until a leader confirms the proposal', async () => {
    const db = await freshDb();
    await enqueue(
      db,
      { name: 'account.create', args: { id: 'n1', code: '', name: '历城新材料有限公司', status: 'prospect', parentId: null, industry: '', address: '', city: '济南', notes: '', pinLatitude: 36.66, pinLongitude: 117.05, pinAccuracyM: 20 } },
      author,
    );
    const row = await db.get('accounts', 'n1');
    expect(row).toMatchObject({ name: '历城新材料有限公司', status: 'prospect', ownerId: 'u-rep', latitude: null, longitude: null, _pending: true, _base: null });
    expect(row?._s).toContain('历城新材料');
  });

  it('a possible duplicate is taken but listed with its candidates; a refused new account leaves the device', async () => {
    const db = await freshDb();
    const args = { code: '', status: 'prospect' as const, parentId: null, industry: '', address: '', city: '济南', notes: '' };
    await enqueue(db, { name: 'account.create', args: { ...args, id: 'n1', name: '济南钢铁' } }, author);
    await enqueue(db, { name: 'account.create', args: { ...args, id: 'n2', name: '' } }, author);
    const api = new FakeApi();
    api.push = (body) => ({
      status: 200,
      body: {
        lastMutationId: body.mutations.at(-1)!.id,
        results: [
          { id: 1, status: 'applied', code: 'possible_duplicate', message: 'May be 济南钢铁集团', candidates: [{ id: 'a9', name: '济南钢铁集团', ownerName: '赵', reasons: ['same_name_city'], inScope: true }] },
          { id: 2, status: 'rejected', code: 'invalid', message: 'name: required' },
        ],
      },
    });
    await engine(db, api).run();
    expect(await db.get('accounts', 'n2')).toBeUndefined();
    const records = await db.getAll('rejected');
    const dup = records.find((r) => r.code === 'possible_duplicate');
    expect(dup?.applied).toBe(true);
    expect(dup?.candidates?.map((c) => c.id)).toEqual(['a9']);
    expect(records.find((r) => r.code === 'invalid')?.mutation.name).toBe('account.create');
  });

  it('a case opened offline shows in the case list until the server has it; refused, it goes', async () => {
    const db = await freshDb();
    await seedAccounts(db, account({ id: 'a1', name: '山东高速' }));
    await enqueue(db, { name: 'case.create', args: { id: 'c1', accountId: 'a1', type: 'fault', priority: 'high', title: '专线中断', description: '' } }, author);
    const local = await db.getAll('cases');
    expect(local.map((c) => [c.id, c.accountName, c.state, c._pending])).toEqual([['c1', '山东高速', 'open', true]]);
    expect(withLocalCases([serverCase('c0', 'a1')], local).map((c) => c.id).sort()).toEqual(['c0', 'c1']);
    const api = new FakeApi();
    api.push = (body) => ({ status: 200, body: { lastMutationId: body.mutations.at(-1)!.id, results: [{ id: 1, status: 'rejected', code: 'forbidden', message: 'no' }] } });
    await engine(db, api).run();
    expect(await db.get('cases', 'c1')).toBeUndefined();
  });
});

describe('the field day in the pull', () => {
  const fieldDay = {
    plans: [plan('p1', 'a1'), plan('p2', 'a2')],
    visits: [visit('v1', 'a1')],
    opportunities: [opportunity('o1', 'a1'), opportunity('o2', 'a2')],
    quotes: [],
    cases: [serverCase('c1', 'a1')],
    projects: [],
    tasks: [{ id: 't1', accountId: 'a1', title: 'Call back' } as never],
  };

  it('stores plans, visits, opportunities, cases and tasks, and says the feed carries them', async () => {
    const db = await freshDb();
    expect(await fieldDayFeed(db)).toBe(false);
    await applyPullPage(db, page({ reset: true, accounts: [account({ id: 'a1' }), account({ id: 'a2' })], ...fieldDay }), { clearFirst: true, inSnapshot: false, author });
    expect((await db.getAll('plans')).map((p) => p.id)).toEqual(['p1', 'p2']);
    expect(await db.count('visits')).toBe(1);
    expect(await db.count('opportunities')).toBe(2);
    expect((await db.get('cases', 'c1'))?.kind).toBe('case');
    expect(await db.count('tasks')).toBe(1);
    expect(await fieldDayFeed(db)).toBe(true);
  });

  it('applies deletes, and a deleted account takes its field day along', async () => {
    const db = await freshDb();
    await applyPullPage(db, page({ reset: true, accounts: [account({ id: 'a1' }), account({ id: 'a2' })], ...fieldDay }), { clearFirst: true, inSnapshot: false, author });
    await applyPullPage(db, page({ plans: [], visits: [], quotes: [], deletes: { accounts: ['a1'], opportunities: ['o2'] } }), { clearFirst: false, inSnapshot: false, author });
    expect((await db.getAll('plans')).map((p) => p.id)).toEqual(['p2']);
    expect(await db.count('visits')).toBe(0);
    expect(await db.count('opportunities')).toBe(0);
    expect(await db.count('cases')).toBe(0);
    expect(await db.count('tasks')).toBe(0);
  });

  it('a reset replaces the field day but keeps what waits to be sent', async () => {
    const db = await freshDb();
    await applyPullPage(db, page({ reset: true, accounts: [account({ id: 'a1' })], ...fieldDay }), { clearFirst: true, inSnapshot: false, author });
    await enqueue(db, { name: 'case.create', args: { id: 'c9', accountId: 'a1', type: 'complaint', priority: 'normal', title: 'Noise', description: '' } }, author);
    await applyPullPage(db, page({ reset: true, accounts: [account({ id: 'a1' })], plans: [], visits: [], quotes: [], cases: [] }), { clearFirst: true, inSnapshot: false, author });
    expect(await db.count('plans')).toBe(0);
    expect(await db.count('opportunities')).toBe(0);
    expect((await db.getAll('cases')).map((c) => [c.id, c._pending])).toEqual([['c9', true]]);
  });

  it('a server without the field day in its pull leaves the cached plans alone on a reset', async () => {
    const db = await freshDb();
    await db.put('plans', { ...plan('p1', 'a1'), _seq: 1 });
    const old = page({ reset: true, accounts: [account({ id: 'a1' })] });
    expect(carriesFieldDay(old)).toBe(false);
    await applyPullPage(db, old, { clearFirst: true, inSnapshot: false, author });
    expect(await db.count('plans')).toBe(1);
    expect(await fieldDayFeed(db)).toBe(false);
  });

  it('a pulled quote replays a submit still queued over it', async () => {
    const db = await freshDb();
    await seedAccounts(db, account({ id: 'a1' }));
    await enqueue(db, { name: 'quote.submit', args: { id: 'q1', baseVersion: 3, comment: '' } }, author);
    const server = { id: 'q1', accountId: 'a1', state: 'draft', version: 3, lines: [], approvals: [] } as unknown as Quote;
    await applyPullPage(db, page({ plans: [], visits: [], quotes: [server as never] }), { clearFirst: false, inSnapshot: false, author });
    expect((await db.get('quotes', 'q1'))?.state).toBe('submitted');
  });
});

describe('signing out', () => {
  it('asks when changes wait or there is no network, and refuses to drop more than agreed', async () => {
    const db = await freshDb();
    expect(mustAsk(await signOutRisk(db, true))).toBe(false);
    expect(await signOutRisk(db, false)).toEqual({ pending: 0, offline: true });
    expect(mustAsk(await signOutRisk(db, false))).toBe(true);
    await seedAccounts(db, account({ id: 'a1' }));
    await enqueue(db, { name: 'account.note', args: { id: 'n1', accountId: 'a1', text: 'hi' } }, author);
    expect(await signOutRisk(db, true)).toEqual({ pending: 1, offline: false });
    await expect(guardSignOut(db, 0)).rejects.toBeInstanceOf(PendingChangesError);
    await expect(guardSignOut(db, 1)).resolves.toBeUndefined();
    // One more change made while the question was on screen: the earlier "yes" does not cover it.
    await enqueue(db, { name: 'account.note', args: { id: 'n2', accountId: 'a1', text: 'again' } }, author);
    await expect(guardSignOut(db, 1)).rejects.toMatchObject({ pending: 2 });
  });
});

describe('the quote form and amounts', () => {
  const products = new Map([['p1', product('p1', 100_000)]]);
  const line = (overrides: Partial<LineDraft> = {}): LineDraft => ({ productId: 'p1', quantity: '1', unitPrice: '', discount: '', ...overrides });
  const today = '2026-12-04';

  it('marks the very field that is wrong on each line', () => {
    const { errors, values } = validateQuote({ title: '', validUntil: '', notes: '', lines: [line({ quantity: 'abc' }), line({ discount: '150' })] }, products, { submitting: true, today });
    expect(values).toBeNull();
    expect(Object.keys(errors).sort()).toEqual(['lines.0.quantity', 'lines.1.discount']);
  });

  it('says "too large" for a huge amount, and asks for an amount for letters', () => {
    expect(yuanError('99999999999999999', 'Unit price')).toMatch(/too large/);
    expect(yuanError('12,345,678,901,234,567', 'Unit price')).toMatch(/too large/);
    expect(yuanError('abc', 'Unit price')).toMatch(/an amount in yuan/);
    expect(yuanError('12800.50', 'Unit price')).toBe('');
    const { errors } = validateQuote({ title: '', validUntil: '', notes: '', lines: [line({ unitPrice: '99999999999999999' }), line({ quantity: '99999999999999' })] }, products, { submitting: false, today });
    expect(errors['lines.0.unitPrice']).toMatch(/too large/i);
    expect(errors['lines.1.quantity']).toMatch(/too large/i);
    const opp = validateOpportunity({ accountId: 'a1', name: 'x', stage: 'lead', amount: '99999999999999999', expectedClose: '', productIds: [], competitor: '', nextStep: '', lostReason: '' }, [{ key: 'lead', name: 'Lead', nameZh: '线索', position: 1, probability: 10, kind: 'open' }]);
    expect(opp.errors.amount).toMatch(/too large/);
  });

  it('asks for a product only when submitting, and not once there is one', () => {
    expect(validateQuote({ title: '', validUntil: '', notes: '', lines: [] }, products, { submitting: true, today }).errors.lines).toMatch(/at least one product/);
    expect(validateQuote({ title: '', validUntil: '', notes: '', lines: [] }, products, { submitting: false, today }).errors.lines).toBeUndefined();
    expect(validateQuote({ title: '', validUntil: '', notes: '', lines: [line()] }, products, { submitting: true, today }).errors).toEqual({});
  });
});

describe('new accounts', () => {
  it('checks a new account as the server does', () => {
    const base = { kind: 'prospect' as const, parentId: '', name: '济南新材料', code: '', industry: '', city: '', address: '', notes: '' };
    expect(validateNewAccount(base)).toEqual({});
    expect(Object.keys(validateNewAccount({ ...base, name: ' ', code: 'a b', kind: 'member' })).sort()).toEqual(['code', 'name', 'parent']);
  });

  it('finds look-alikes on the device: the same code, or the same name in the same city', () => {
    const all = [
      { id: 'a1', name: '济南钢铁集团有限公司', code: 'JG01', city: '济南' },
      { id: 'a2', name: '青岛啤酒', code: 'QP01', city: '青岛' },
    ];
    expect(normaliseName('济南钢铁集团 有限公司')).toBe('济南钢铁');
    expect(lookAlikes(all, { name: '济南钢铁', code: '', city: '济南' }).map((a) => a.id)).toEqual(['a1']);
    expect(lookAlikes(all, { name: '济南钢铁', code: '', city: '青岛' })).toEqual([]);
    expect(lookAlikes(all, { name: 'Other', code: 'qp01', city: '' }).map((a) => a.id)).toEqual(['a2']);
  });
});

describe('coverage and the rep map on the device', () => {
  it('rates coverage by the server rule: never, overdue past the interval, due in its last quarter', () => {
    expect(coverageStatus('A', null, '2026-12-04')).toBe('never');
    expect(coverageStatus('A', '2026-11-19', '2026-12-04')).toBe('overdue'); // 15 days, A is 14
    expect(coverageStatus('A', '2026-11-20', '2026-12-04')).toBe('due_soon'); // 14 days: still in
    expect(coverageStatus('A', '2026-11-24', '2026-12-04')).toBe('covered'); // 10 days: before the last 4
    expect(coverageStatus(null, '2026-10-01', '2026-12-04')).toBe('covered'); // C: 90 days
  });

  it('lists my placed accounts nearest first and today’s route in planned order', async () => {
    const db = await freshDb();
    await seedAccounts(
      db,
      account({ id: 'far', latitude: 36.7, longitude: 117.2 }),
      account({ id: 'near', latitude: 36.651, longitude: 117.001 }),
      account({ id: 'nopin' }),
      account({ id: 'other', ownerId: 'u-else', latitude: 36.65, longitude: 117.0 }),
    );
    await db.put('plans', { ...plan('p2', 'far', { latitude: 36.7, longitude: 117.2 }), _seq: 2 });
    await db.put('plans', { ...plan('p1', 'near', { latitude: 36.651, longitude: 117.001 }), _seq: 1 });
    await db.put('plans', { ...plan('p3', 'near', { status: 'cancelled' }), _seq: 3 });
    const data = await loadMyMap(db, { userId: 'u-rep', centre: { latitude: 36.65, longitude: 117.0 }, today: '2026-12-04' });
    expect(data.accounts.map((a) => a.id)).toEqual(['near', 'far']);
    expect(data.accounts[0]!.distanceM).toBeLessThan(200);
    expect(data.unplaced).toBe(1);
    expect(data.route.map((s) => [s.planId, s.seq])).toEqual([
      ['p1', 1],
      ['p2', 2],
    ]);
    expect(boundsOf(data.route)).toEqual([
      [36.651, 117.001],
      [36.7, 117.2],
    ]);
  });
});

describe('the pipeline from the device', () => {
  it('counts every stage and sums the open ones, an opportunity made offline included', async () => {
    const { pipelineFromRows } = await import('../src/sales/store');
    const stages = [
      { key: 'lead', name: 'Lead', nameZh: '线索', position: 1, probability: 10, kind: 'open' as const },
      { key: 'won', name: 'Won', nameZh: '赢单', position: 2, probability: 100, kind: 'won' as const },
    ];
    const won = { ...opportunity('o3', 'a1'), stage: 'won', amountCents: 500_00, weightedCents: 500_00 };
    const p = pipelineFromRows([opportunity('o1', 'a1'), opportunity('o2', 'a1'), won], stages);
    expect(p.stages.map((st) => [st.stage, st.count, st.amountCents])).toEqual([
      ['lead', 2, 200_00],
      ['won', 1, 500_00],
    ]);
    expect([p.openCount, p.openAmountCents, p.openWeightedCents]).toEqual([2, 200_00, 20_00]);
  });
});
