import { describe, expect, it } from 'vitest';
import { enqueue } from '../src/sync/outbox';
import {
  addDays,
  checkTask,
  drillTarget,
  filterTasks,
  isStale,
  mergeCalendar,
  nextMonth,
  parseDrill,
  parseTargets,
  problemFields,
  progressBars,
  taskChanges,
  taskCounts,
  trendSeries,
  weekDays,
  weekStart,
  type CalItem,
} from '../src/work/logic';
import type { WorkTask } from '../src/work/mutations';
import { account, engine, FakeApi, freshDb, page } from './helpers';

const author = { id: 'u-rep', name: '钱萍' };

function task(overrides: Partial<WorkTask> = {}): WorkTask {
  return {
    id: overrides.id ?? 't1',
    accountId: null,
    title: 'Call back',
    dueDate: '2026-12-04',
    dueTime: null,
    state: 'open',
    kind: 'call',
    priority: 'normal',
    version: 1,
    ...overrides,
  };
}

describe('the week and the lists', () => {
  it('weeks start on Monday, across a month and a year end', () => {
    expect(weekStart('2026-12-04')).toBe('2026-11-30'); // a Friday
    expect(weekStart('2026-11-30')).toBe('2026-11-30');
    expect(weekStart('2026-12-06')).toBe('2026-11-30'); // a Sunday
    expect(weekDays('2027-01-01')).toEqual(['2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02', '2027-01-03']);
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(nextMonth('2026-12-04')).toBe('2027-01');
    expect(nextMonth('2026-01-31')).toBe('2026-02');
  });

  it('today, overdue, this week and done each hold the right tasks, earliest first', () => {
    const tasks = [
      task({ id: 'late', dueDate: '2026-12-01' }),
      task({ id: 'today-9', dueDate: '2026-12-04', dueTime: '09:00' }),
      task({ id: 'today-any', dueDate: '2026-12-04' }),
      task({ id: 'today-8', dueDate: '2026-12-04', dueTime: '08:00' }),
      task({ id: 'sunday', dueDate: '2026-12-06' }),
      task({ id: 'next-week', dueDate: '2026-12-07' }),
      task({ id: 'done-old', state: 'done', completedAt: '2026-12-02T08:00:00Z' }),
      task({ id: 'skipped-new', state: 'skipped', updatedAt: '2026-12-03T08:00:00Z' }),
      task({ id: 'late-done', dueDate: '2026-11-20', state: 'done', completedAt: '2026-11-21T08:00:00Z' }),
    ];
    const ids = (f: Parameters<typeof filterTasks>[1]) => filterTasks(tasks, f, '2026-12-04').map((t) => t.id);
    expect(ids('today')).toEqual(['today-8', 'today-9', 'today-any']);
    expect(ids('overdue')).toEqual(['late']);
    expect(ids('week')).toEqual(['late', 'today-8', 'today-9', 'today-any', 'sunday']);
    expect(ids('done')).toEqual(['skipped-new', 'done-old', 'late-done']);
    expect(taskCounts(tasks, '2026-12-04')).toEqual({ today: 3, overdue: 1, week: 5, done: 3 });
  });
});

describe('form checks', () => {
  it('a task needs a title and a real due date; the time is optional but must be a time', () => {
    expect(checkTask({ title: ' ', dueDate: '', dueTime: null })).toEqual({ title: 'required', dueDate: 'required' });
    expect(checkTask({ title: 'x'.repeat(201), dueDate: '2026-13-40', dueTime: '25:00' })).toEqual({ title: 'tooLong', dueDate: 'badDate', dueTime: 'badTime' });
    expect(checkTask({ title: '回访', dueDate: '2026-12-31', dueTime: '09:30' })).toEqual({});
  });

  it('an edit sends only what changed', () => {
    const before = task({ title: 'A', description: '' });
    expect(taskChanges(before, { title: 'A', dueDate: '2026-12-05', dueTime: null, accountId: null, kind: 'call', priority: 'high', description: '' })).toEqual({ dueDate: '2026-12-05', priority: 'high' });
  });

  it('targets: empty is no target, yuan become cents, nonsense is marked per field', () => {
    const inputs = { visitsA: '12', visitsB: '', visitsC: '3x', newOpportunities: '4', wonRevenueCents: '120,000.5', quotesSent: '-1', tasksOnTime: '20' };
    const { values, errors } = parseTargets(inputs);
    expect(values).toEqual({ visitsA: 12, visitsB: null, newOpportunities: 4, wonRevenueCents: 12_000_050, tasksOnTime: 20 });
    expect(errors).toEqual({ visitsC: 'badNumber', quotesSent: 'badNumber' });
  });

  it("the server's field errors land on the target form's fields", () => {
    expect(problemFields({ detail: 'too large', field: 'values.won_revenue_cents' })).toEqual({ wonRevenueCents: 'too large' });
    expect(problemFields({ errors: [{ field: 'visits_a', message: 'at most 9999' }, { field: 'other', message: 'x' }] })).toEqual({ visitsA: 'at most 9999' });
  });
});

describe('figures', () => {
  it('progress bars only for KPIs with a target, from the tier counts and totals', () => {
    const values = { visitsByTier: { a: 6, b: 1, c: 0 }, newOpportunities: 2, wonRevenueCents: 500_000, quotesSent: 3, tasksOnTime: 7 };
    const bars = progressBars(values, { visitsA: 12, visitsB: null, wonRevenueCents: 250_000, quotesSent: 0 });
    expect(bars).toEqual([
      { key: 'visitsA', value: 6, target: 12, share: 0.5 },
      { key: 'wonRevenueCents', value: 500_000, target: 250_000, share: 2 },
    ]);
  });

  it('drill-down: the route and the leaderboard links say where to go', () => {
    expect(parseDrill(['dashboard'])).toEqual({ level: 'hq', id: null });
    expect(parseDrill(['dashboard', 'city', 'c-1'])).toEqual({ level: 'city', id: 'c-1' });
    expect(parseDrill(['dashboard', 'planet', 'x'])).toEqual({ level: 'hq', id: null });
    expect(drillTarget('/api/kpis?level=team&id=t-9&period=month', 'team')).toEqual({ level: 'team', id: 't-9' });
    expect(drillTarget(null, 'team')).toBeNull();
  });

  it('trend series keep missing figures as gaps', () => {
    const points = [{ period: { label: '2026-11' }, winRate: 0.5 }, { period: { label: '2026-12' }, winRate: null }];
    expect(trendSeries(points, ['winRate'])).toEqual({ labels: ['2026-11', '2026-12'], series: [[0.5, null]] });
  });

  it('a cached copy is stale after twelve hours', () => {
    const now = new Date('2026-12-04T12:00:00Z');
    expect(isStale('2026-12-04T01:00:00Z', now)).toBe(false);
    expect(isStale('2026-12-03T23:00:00Z', now)).toBe(true);
    expect(isStale(undefined, now)).toBe(true);
  });

  it("the calendar puts each item on its day once, the device's copy first", () => {
    const days = weekDays('2026-12-04');
    const local: CalItem[] = [{ key: 'task:1', kind: 'task', date: '2026-12-04', time: '10:00', title: 'mine', url: '', state: 'done' }];
    const server: CalItem[] = [
      { key: 'task:1', kind: 'task', date: '2026-12-04', time: '10:00', title: 'old', url: '', state: 'open' },
      { key: 'approval:2', kind: 'approval', date: '2026-12-04', time: '09:00', title: 'quote', url: '', state: '' },
      { key: 'holding_end:3', kind: 'holding_end', date: '2026-12-20', time: null, title: 'out of week', url: '', state: '' },
    ];
    const byDay = mergeCalendar(days, local, server);
    expect(byDay.get('2026-12-04')!.map((i) => i.title)).toEqual(['quote', 'mine']);
    expect([...byDay.values()].flat()).toHaveLength(2);
  });
});

describe('tasks through the outbox', () => {
  it('a task added and completed offline is on the device at once and goes to the server once, in order', async () => {
    const db = await freshDb();
    await db.put('accounts', { ...account({ id: 'a1', name: '济南钢铁' }), _s: '' });
    await enqueue(db, { name: 'task.create', args: { id: 'n1', title: '送样品', dueDate: '2026-12-04', dueTime: null, accountId: 'a1', kind: 'visit', priority: 'high', description: '' } }, author);
    let row = (await db.get('tasks', 'n1')) as WorkTask;
    expect(row).toMatchObject({ title: '送样品', state: 'open', accountName: '济南钢铁', _pending: true, _base: null });
    await enqueue(db, { name: 'task.complete', args: { id: 'n1', outcome: '客户收到' } }, author);
    row = (await db.get('tasks', 'n1')) as WorkTask;
    expect(row).toMatchObject({ state: 'done', outcome: '客户收到', _pending: true, _base: null });

    const api = new FakeApi();
    const sync = engine(db, api);
    await sync.run();
    await sync.run();
    const sent = api.pushes().flatMap((p) => p.mutations.map((m) => m.name));
    expect(sent).toEqual(['task.create', 'task.complete']);
    row = (await db.get('tasks', 'n1')) as WorkTask;
    expect(row._pending).toBeUndefined();
    expect(row.state).toBe('done');
  });

  it('a refused skip puts the server copy back; a refused create drops the task made here', async () => {
    const db = await freshDb();
    const server = task({ id: 's1', title: 'server copy', version: 3 });
    await db.put('tasks', server);
    await enqueue(db, { name: 'task.skip', args: { id: 's1', reason: '客户出差' } }, author);
    await enqueue(db, { name: 'task.create', args: { id: 'n2', title: 'new', dueDate: '2026-12-04', dueTime: null, accountId: null, kind: 'other', priority: 'normal', description: '' } }, author);
    expect(((await db.get('tasks', 's1')) as WorkTask).state).toBe('skipped');
    const api = new FakeApi();
    api.push = (body) => ({ status: 200, body: { lastMutationId: body.mutations.at(-1)!.id, results: body.mutations.map((m) => ({ id: m.id, status: 'rejected', code: 'forbidden', message: 'no' })) } });
    api.pull = () => ({ status: 200, body: page() });
    await engine(db, api).run();
    expect(await db.get('tasks', 's1')).toEqual(server);
    expect(await db.get('tasks', 'n2')).toBeUndefined();
    expect((await db.getAll('rejected')).map((r) => [r.mutation.name, r.code])).toEqual([['task.skip', 'forbidden'], ['task.create', 'forbidden']]);
  });

  it('an edit keeps the server copy as the base and sends the version it was made on', async () => {
    const db = await freshDb();
    await db.put('tasks', task({ id: 'e1', version: 4 }));
    await enqueue(db, { name: 'task.update', args: { id: 'e1', changes: { dueDate: '2026-12-09' }, baseVersion: 4 } }, author);
    const row = (await db.get('tasks', 'e1')) as WorkTask;
    expect(row.dueDate).toBe('2026-12-09');
    expect((row._base as WorkTask).dueDate).toBe('2026-12-04');
  });
});
