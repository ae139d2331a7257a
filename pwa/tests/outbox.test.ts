import { describe, expect, it } from 'vitest';
import { enqueue } from '../src/sync/outbox';
import { applyPullPage } from '../src/sync/pull';
import type { AppDB } from '../src/db/db';
import { account, contact, engine, FakeApi, freshDb, page, type PageInput } from './helpers';

const author = { id: 'u-rep', name: '钱萍' };

async function seed(db: AppDB, data: PageInput): Promise<void> {
  await applyPullPage(db, page({ reset: true, ...data }), { clearFirst: true, inSnapshot: false, author });
}

describe('the outbox', () => {
  it('numbers mutations 1, 2, 3 in the order they were made and keeps that order', async () => {
    const db = await freshDb();
    const a = account({ id: 'a1' });
    await seed(db, { accounts: [a] });
    const m1 = await enqueue(db, { name: 'account.update', args: { id: 'a1', baseVersion: 1, changes: { name: 'One' } } }, author);
    const m2 = await enqueue(db, { name: 'account.note', args: { id: 'n1', accountId: 'a1', text: 'visited' } }, author);
    const m3 = await enqueue(db, { name: 'account.update', args: { id: 'a1', baseVersion: 1, changes: { city: '青岛' } } }, author);
    expect([m1.id, m2.id, m3.id]).toEqual([1, 2, 3]);
    const queued = await db.getAll('outbox');
    expect(queued.map((m) => [m.id, m.name])).toEqual([
      [1, 'account.update'],
      [2, 'account.note'],
      [3, 'account.update'],
    ]);
    expect(queued[0]!.capturedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('changes the local copy in the same transaction and marks it pending', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1', name: 'Old' })], contacts: [contact('a1', { id: 'c1', name: '王伟' })] });
    await enqueue(db, { name: 'account.update', args: { id: 'a1', baseVersion: 1, changes: { name: 'New name' } } }, author);
    const row = await db.get('accounts', 'a1');
    expect(row?.name).toBe('New name');
    expect(row?._pending).toBe(true);
    expect(row?._base?.name).toBe('Old');
    expect(row?._s).toContain('new name');
    expect(row?._s).toContain('王伟');

    await enqueue(
      db,
      {
        name: 'contact.create',
        args: { id: 'c2', accountId: 'a1', name: '刘洋', title: '经理', phones: ['13800000000'], email: null, decisionRole: 'influencer', notes: '' },
      },
      author,
    );
    const created = await db.get('contacts', 'c2');
    expect(created).toMatchObject({ name: '刘洋', _pending: true, _base: null });
    expect((await db.get('accounts', 'a1'))?._s).toContain('刘洋');

    await enqueue(db, { name: 'contact.delete', args: { id: 'c1', accountId: 'a1' } }, author);
    expect((await db.get('contacts', 'c1'))?._deleted).toBe(true);
    expect((await db.get('accounts', 'a1'))?._s).not.toContain('王伟');

    await enqueue(db, { name: 'account.note', args: { id: 'n1', accountId: 'a1', text: 'hello' } }, author);
    expect(await db.get('notes', 'n1')).toMatchObject({ text: 'hello', authorName: '钱萍', _pending: true });
    expect(await db.count('outbox')).toBe(4);
  });

  it('keeps numbering above ids the server has seen', async () => {
    const db = await freshDb();
    await seed(db, { accounts: [account({ id: 'a1' })] });
    const api = new FakeApi();
    api.push = (body) => ({
      status: 200,
      body: { lastMutationId: 41, results: body.mutations.map((m) => ({ id: m.id, status: 'applied' })) },
    });
    await enqueue(db, { name: 'account.note', args: { id: 'n1', accountId: 'a1', text: 'x' } }, author);
    await engine(db, api).run();
    const next = await enqueue(db, { name: 'account.note', args: { id: 'n2', accountId: 'a1', text: 'y' } }, author);
    expect(next.id).toBe(42);
  });
});
