import { describe, expect, it } from 'vitest';
import { PUSH_BATCH } from '../src/sync/engine';
import { enqueue } from '../src/sync/outbox';
import { applyPullPage } from '../src/sync/pull';
import type { AppDB } from '../src/db/db';
import { account, contact, engine, FakeApi, freshDb, holding, note, page, type PageInput } from './helpers';

const author = { id: 'u-rep', name: '钱萍' };

async function seed(db: AppDB, data: PageInput): Promise<void> {
  await applyPullPage(db, page({ reset: true, ...data }), { clearFirst: true, inSnapshot: false, author });
}

async function rename(db: AppDB, id: string, name: string) {
  return enqueue(db, { name: 'account.update', args: { id, baseVersion: 1, changes: { name } } }, author);
}

describe('push', () => {
  // 1,203 real IndexedDB transactions: under a second on an idle machine, many on a loaded one. The
  // result does not depend on speed, so the limit is generous rather than vitest's default 5 s.
  it('sends the queue in order, in batches of at most 500, with the client id', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    for (let i = 0; i < 1203; i++) await rename(db, 'a1', `name ${i}`);
    const api = new FakeApi();
    const summary = await engine(db, api).run();
    expect(summary.outcome).toBe('ok');
    const pushes = api.pushes();
    expect(pushes.map((p) => p.mutations.length)).toEqual([PUSH_BATCH, PUSH_BATCH, 203]);
    const ids = pushes.flatMap((p) => p.mutations.map((m) => m.id));
    expect(ids).toEqual(Array.from({ length: 1203 }, (_, i) => i + 1));
    expect(pushes.every((p) => p.clientId === 'client-1')).toBe(true);
    expect(pushes[0]!.mutations[0]).toEqual({
      id: 1,
      name: 'account.update',
      args: { id: 'a1', baseVersion: 1, changes: { name: 'name 0' } },
      capturedAt: expect.any(String),
    });
    expect(await db.count('outbox')).toBe(0);
    // push first, then pull
    expect(api.calls.at(-1)?.path).toBe('/api/sync/pull');
  }, 120_000);

  it('applied and skipped mutations leave the queue and the row is no longer pending', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' }), account({ id: 'a2' })] });
    await rename(db, 'a1', 'A');
    await rename(db, 'a2', 'B');
    const api = new FakeApi();
    api.push = () => ({
      status: 200,
      body: {
        lastMutationId: 2,
        results: [
          { id: 1, status: 'applied' },
          { id: 2, status: 'skipped' },
        ],
      },
    });
    const summary = await engine(db, api).run();
    expect(summary).toMatchObject({ outcome: 'ok', applied: 2, rejected: 0 });
    expect(await db.count('outbox')).toBe(0);
    const a1 = await db.get('accounts', 'a1');
    expect(a1?.name).toBe('A');
    expect(a1?._pending).toBeUndefined();
    expect(a1?._base).toBeUndefined();
  });

  it('a rejected mutation goes to the rejected store with the reason and its change is rolled back', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'Server name' })] });
    await rename(db, 'a1', 'Mine');
    await enqueue(
      db,
      { name: 'contact.create', args: { id: 'c9', accountId: 'a1', name: 'Bad', title: '', phones: ['x'], email: null, decisionRole: 'user', notes: '' } },
      author,
    );
    await enqueue(db, { name: 'account.note', args: { id: 'n1', accountId: 'a1', text: 'kept' } }, author);
    expect((await db.get('accounts', 'a1'))?.name).toBe('Mine');

    const api = new FakeApi();
    api.push = () => ({
      status: 200,
      body: {
        lastMutationId: 3,
        results: [
          { id: 1, status: 'rejected', code: 'conflict', message: 'name changed on the server', conflicts: { name: { yours: 'Mine', server: 'Other' } } },
          { id: 2, status: 'rejected', code: 'invalid', message: 'phones[0]: bad phone number' },
          { id: 3, status: 'applied' },
        ],
      },
    });
    const summary = await engine(db, api).run();
    expect(summary).toMatchObject({ outcome: 'ok', applied: 1, rejected: 2 });
    expect(await db.count('outbox')).toBe(0);

    const rejected = await db.getAll('rejected');
    expect(rejected.map((r) => [r.mutation.id, r.mutation.name, r.code, r.message])).toEqual([
      [1, 'account.update', 'conflict', 'name changed on the server'],
      [2, 'contact.create', 'invalid', 'phones[0]: bad phone number'],
    ]);
    expect(rejected[0]!.conflicts).toEqual({ name: { yours: 'Mine', server: 'Other' } });

    const a1 = await db.get('accounts', 'a1');
    expect(a1?.name).toBe('Server name');
    expect(a1?._pending).toBeUndefined();
    expect(a1?._s).toContain('server name');
    expect(await db.get('contacts', 'c9')).toBeUndefined();
    expect((await db.get('notes', 'n1'))?.text).toBe('kept');
    // and the device asks the server again straight after
    expect(api.pulls()).toHaveLength(1);
  });

  it('rolling back one change keeps a later queued change to the same row', async () => {
    const db = await freshDb();
    await seed(db, { contacts: [], accounts: [account({ id: 'a1', name: 'S', city: '济南' })] });
    await rename(db, 'a1', 'Rejected name');
    await enqueue(db, { name: 'account.update', args: { id: 'a1', baseVersion: 1, changes: { city: '青岛' } } }, author);
    const api = new FakeApi();
    api.push = () => ({
      status: 200,
      body: { lastMutationId: 1, results: [{ id: 1, status: 'rejected', code: 'invalid', message: 'no' }] },
    });
    // The second mutation is not answered in this response (the server stopped); then the pull fails.
    api.pull = () => 'network';
    const first = engine(db, api);
    await first.run();
    const a1 = await db.get('accounts', 'a1');
    expect(a1?.name).toBe('S');
    expect(a1?.city).toBe('青岛');
    expect(a1?._pending).toBe(true);
    expect((await db.getAll('outbox')).map((m) => m.id)).toEqual([2]);
  });

  it('a skipped mutation whose earlier answer was a rejection is recovered from /api/sync/rejections', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'S' })] });
    await rename(db, 'a1', 'Mine');
    const api = new FakeApi();
    api.push = () => ({ status: 200, body: { lastMutationId: 1, results: [{ id: 1, status: 'skipped' }] } });
    api.rejections = () => ({ status: 200, body: { items: [{ mutationId: 1, code: 'forbidden', message: 'not yours' }] } });
    await engine(db, api).run();
    expect((await db.getAll('rejected')).map((r) => r.code)).toEqual(['forbidden']);
    expect((await db.get('accounts', 'a1'))?.name).toBe('S');
  });

  it('503 with Retry-After keeps the whole queue and waits before trying again', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    await rename(db, 'a1', 'A');
    await rename(db, 'a1', 'B');
    let now = 1_000_000;
    const api = new FakeApi();
    api.push = () => ({ status: 503, body: { detail: 'database busy' }, headers: { 'Retry-After': '20' } });
    const sync = engine(db, api, () => now);
    const summary = await sync.run();
    expect(summary.outcome).toBe('backoff');
    expect(sync.status.retryAt).toBe(now + 20_000);
    expect((await db.getAll('outbox')).map((m) => m.id)).toEqual([1, 2]);
    expect((await db.get('accounts', 'a1'))?.name).toBe('B');
    expect(api.pulls()).toHaveLength(0);

    // before Retry-After has passed nothing is sent
    now += 10_000;
    expect((await sync.run()).outcome).toBe('backoff');
    expect(api.pushes()).toHaveLength(1);

    // afterwards the same batch goes again and succeeds
    now += 11_000;
    api.push = (body) => ({
      status: 200,
      body: { lastMutationId: 2, results: body.mutations.map((m) => ({ id: m.id, status: 'applied' })) },
    });
    expect((await sync.run()).outcome).toBe('ok');
    expect(api.pushes()[1]!.mutations.map((m) => m.id)).toEqual([1, 2]);
    expect(await db.count('outbox')).toBe(0);
    expect(sync.status.lastSyncAt).toBe(new Date(now).toISOString());
  });

  it('401 asks to sign in again and keeps the queue; 403 tells a CSRF problem from a client bound to someone else', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    await rename(db, 'a1', 'A');
    const api = new FakeApi();
    api.push = () => ({ status: 401, body: { detail: 'your session has ended; sign in again' } });
    const sync = engine(db, api);
    expect((await sync.run()).outcome).toBe('auth');
    expect(await db.count('outbox')).toBe(1);

    api.push = () => ({ status: 403, body: { detail: 'missing or wrong x-csrf-token header' } });
    expect((await sync.run()).outcome).toBe('auth');

    api.push = () => ({ status: 403, body: { detail: 'this client id belongs to another user', code: 'client_bound' } });
    expect((await sync.run()).outcome).toBe('client-conflict');
    expect(await db.count('outbox')).toBe(1);
    expect(await db.get('meta', 'clientId')).toBe('client-1');
  });

  it('no network: the queue stays and the outcome is offline', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    await rename(db, 'a1', 'A');
    const api = new FakeApi();
    api.push = () => 'network';
    const sync = engine(db, api);
    expect((await sync.run()).outcome).toBe('offline');
    expect(sync.status.online).toBe(false);
    expect(await db.count('outbox')).toBe(1);
  });

  it('a gap (the server waits for an id the device does not have) renumbers the queue and resends', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    await db.put('meta', 8, 'nextMutationId');
    await rename(db, 'a1', 'A'); // id 8
    await rename(db, 'a1', 'B'); // id 9
    const api = new FakeApi();
    api.push = (body) => {
      const last = 6;
      if (body.mutations[0]!.id !== last + 1) return { status: 200, body: { lastMutationId: last, results: [] } };
      return { status: 200, body: { lastMutationId: 8, results: body.mutations.map((m) => ({ id: m.id, status: 'applied' })) } };
    };
    expect((await engine(db, api).run()).outcome).toBe('ok');
    expect(api.pushes().map((p) => p.mutations.map((m) => m.id))).toEqual([
      [8, 9],
      [7, 8],
    ]);
    expect(await db.count('outbox')).toBe(0);
  });

  it('runs one sync at a time', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    await rename(db, 'a1', 'A');
    const api = new FakeApi();
    const sync = engine(db, api);
    const [x, y] = await Promise.all([sync.run(), sync.run()]);
    expect(x).toBe(y);
    expect(api.pushes()).toHaveLength(1);
  });
});

describe('pull', () => {
  it('sends the stored cursor and keeps the new one', async () => {
    const db = await freshDb();
    const api = new FakeApi();
    api.pull = () => ({ status: 200, body: page({ cursor: '15', reset: true, accounts: [account({ id: 'a1' })] }) });
    await engine(db, api).run();
    api.pull = (body) => ({ status: 200, body: page({ cursor: body.cursor === '15' ? '20' : 'wrong' }) });
    await engine(db, api).run();
    expect(api.pulls().map((p) => p.cursor)).toEqual([null, '15']);
    expect(await db.get('meta', 'cursor')).toBe('20');
  });

  it('upserts rows and revenue, and keeps the latest month', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'Old' })] });
    await applyPullPage(
      db,
      page({
        accounts: [account({ id: 'a1', name: 'New' }), account({ id: 'a2' })],
        contacts: [contact('a1', { id: 'c1', name: '张敏' })],
        holdings: [holding('a1', { id: 'h1' })],
        notes: [note('a1', { id: 'n1', text: 'hi', createdAt: '2026-10-01T00:00:00Z' })],
        revenue: [
          ['a1', '2026-09', 100],
          ['a1', '2026-10', 200],
        ],
      }),
      { clearFirst: false, inSnapshot: false, author },
    );
    expect((await db.get('accounts', 'a1'))?.name).toBe('New');
    expect((await db.get('accounts', 'a1'))?._s).toContain('张敏');
    expect(await db.count('accounts')).toBe(2);
    expect(await db.get('revenue', 'a1')).toEqual({ accountId: 'a1', months: { '2026-09': 100, '2026-10': 200 } });
    // a later page adds a month and changes one
    await applyPullPage(db, page({ revenue: [['a1', '2026-10', 250], ['a1', '2026-11', 300]] }), { clearFirst: false, inSnapshot: false, author });
    expect((await db.get('revenue', 'a1'))?.months).toEqual({ '2026-09': 100, '2026-10': 250, '2026-11': 300 });
    expect(await db.get('meta', 'revenueEnd')).toBe('2026-11');
  });

  it('a reset replaces the local copy; a snapshot in pages clears only once', async () => {
    const db = await freshDb();
    await seed(db, {
      accounts: [account({ id: 'old1' }), account({ id: 'old2' })],
      contacts: [contact('old1', { id: 'oc' })],
      revenue: [['old1', '2026-01', 5]],
    });
    const api = new FakeApi();
    const pages = [
      page({ cursor: 'p1', reset: true, more: true, accounts: [account({ id: 'new1' })] }),
      page({ cursor: 'p2', reset: true, more: true, accounts: [account({ id: 'new2' })] }),
      page({ cursor: '99', reset: false, more: false, contacts: [contact('new2', { id: 'nc' })] }),
    ];
    api.pull = () => ({ status: 200, body: pages.shift() });
    const summary = await engine(db, api).run();
    expect(summary.pulledPages).toBe(3);
    expect((await db.getAllKeys('accounts')).sort()).toEqual(['new1', 'new2']);
    expect(await db.getAllKeys('contacts')).toEqual(['nc']);
    expect(await db.count('revenue')).toBe(0);
    expect(await db.get('meta', 'cursor')).toBe('99');
    expect(await db.get('meta', 'inSnapshot')).toBe(false);
    expect(api.pulls().map((p) => p.cursor)).toEqual(['1', 'p1', 'p2']);
  });

  it('a reset keeps queued changes: they are replayed over the new copy', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'S' })] });
    await rename(db, 'a1', 'Mine');
    await enqueue(
      db,
      { name: 'contact.create', args: { id: 'c1', accountId: 'a1', name: '新人', title: '', phones: [], email: null, decisionRole: 'user', notes: '' } },
      author,
    );
    const api = new FakeApi();
    api.push = () => 'network';
    await engine(db, api).run();
    // the snapshot arrives (say the cursor expired) before the queue could be sent
    await applyPullPage(db, page({ cursor: '5', reset: true, accounts: [account({ id: 'a1', name: 'S2', industry: '能源' })] }), {
      clearFirst: true,
      inSnapshot: false,
      author,
    });
    const a1 = await db.get('accounts', 'a1');
    expect(a1).toMatchObject({ name: 'Mine', industry: '能源', _pending: true });
    expect(a1?._base?.name).toBe('S2');
    expect(await db.get('contacts', 'c1')).toMatchObject({ name: '新人', _pending: true });
    expect(await db.count('outbox')).toBe(2);
  });

  it('a pending change survives an incremental pull of the same row (fields merge)', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'S', city: '济南' })] });
    await rename(db, 'a1', 'Mine');
    await applyPullPage(db, page({ accounts: [account({ id: 'a1', name: 'S', city: '青岛', version: 2 })] }), {
      clearFirst: false,
      inSnapshot: false,
      author,
    });
    const a1 = await db.get('accounts', 'a1');
    expect(a1).toMatchObject({ name: 'Mine', city: '青岛', version: 2, _pending: true });
  });

  it('deletes remove rows; a deleted account takes its contacts, holdings, notes and revenue along', async () => {
    const db = await freshDb();
    await seed(db, {
      accounts: [account({ id: 'a1' }), account({ id: 'a2' })],
      contacts: [contact('a1', { id: 'c1' }), contact('a2', { id: 'c2', name: '李娜' }), contact('a2', { id: 'c3' })],
      holdings: [holding('a1', { id: 'h1' }), holding('a2', { id: 'h2' })],
      notes: [
        note('a1', { id: 'n1', text: 'x', createdAt: '2026-01-01T00:00:00Z' }),
        note('a2', { id: 'n2', text: 'y', createdAt: '2026-01-01T00:00:00Z' }),
      ],
      revenue: [
        ['a1', '2026-01', 1],
        ['a2', '2026-01', 2],
      ],
    });
    await applyPullPage(
      db,
      page({ deletes: { accounts: ['a1'], contacts: ['c2'], holdings: ['h2'], notes: ['n2'] } }),
      { clearFirst: false, inSnapshot: false, author },
    );
    expect(await db.getAllKeys('accounts')).toEqual(['a2']);
    expect(await db.getAllKeys('contacts')).toEqual(['c3']);
    expect(await db.count('holdings')).toBe(0);
    expect(await db.count('notes')).toBe(0);
    expect(await db.getAllKeys('revenue')).toEqual(['a2']);
    expect((await db.get('accounts', 'a2'))?._s).not.toContain('李娜');
  });

  it('a pull that fails keeps the old cursor', async () => {
    const db = await freshDb();
    await db.put('meta', '7', 'cursor');
    const api = new FakeApi();
    api.pull = () => ({ status: 503, headers: { 'Retry-After': '5' } });
    expect((await engine(db, api).run()).outcome).toBe('backoff');
    expect(await db.get('meta', 'cursor')).toBe('7');
  });
});

describe('robustness', () => {
  it('a queued mutation this version does not know is sent, and its rejection is recorded without breaking the queue', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'S' })] });
    await db.put('outbox', { id: 1, name: 'account.frobnicate', args: {}, capturedAt: '2026-11-24T00:00:00Z' } as never);
    await db.put('meta', 2, 'nextMutationId');
    await rename(db, 'a1', 'Mine');
    const api = new FakeApi();
    api.push = () => ({
      status: 200,
      body: {
        lastMutationId: 2,
        results: [
          { id: 1, status: 'rejected', code: 'unknown_mutation', message: 'no such mutation' },
          { id: 2, status: 'applied' },
        ],
      },
    });
    expect((await engine(db, api).run()).outcome).toBe('ok');
    expect((await db.getAll('rejected')).map((r) => r.code)).toEqual(['unknown_mutation']);
    expect((await db.get('accounts', 'a1'))?.name).toBe('Mine');
    expect(await db.count('outbox')).toBe(0);
  });
});
