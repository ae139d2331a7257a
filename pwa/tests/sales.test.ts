import { describe, expect, it, beforeEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { setLocale } from '../src/i18n';
import { depthBp, lineAmounts, parsePercent, parseYuan, percentText, quoteAmounts, roundHalfUp, yuanExact, yuanInput } from '../src/sales/money';
import { validateCase, validateOpportunity, validateQuote, type LineDraft } from '../src/sales/validate';
import { conflictView, keepYours } from '../src/sales/conflict';
import { PRODUCTS_KEY, STAGES_KEY } from '../src/sales/mutations';
import { SALES_CATALOGUES } from '../src/sales/i18n';
import type { RejectedMutation } from '../src/db/db';
import type { Product, Stage } from '../src/sales/types';
import { enqueue } from '../src/sync/outbox';
import { account, engine, FakeApi, freshDb } from './helpers';

const author = { id: 'u-rep', name: '钱萍' };

const STAGES: Stage[] = [
  { key: 'lead', name: 'Lead', nameZh: '线索', position: 10, probability: 10, kind: 'open' },
  { key: 'proposal', name: 'Proposal', nameZh: '方案报价', position: 30, probability: 50, kind: 'open' },
  { key: 'won', name: 'Won', nameZh: '赢单', position: 50, probability: 100, kind: 'won' },
  { key: 'lost', name: 'Lost', nameZh: '丢单', position: 60, probability: 0, kind: 'lost' },
];

function product(id: string, listPriceCents: number, maxDiscountBp = 500): Product {
  return { id, code: id.toUpperCase(), name: `Product ${id}`, unit: '条', category: '专线', listPriceCents, maxDiscountBp, active: true, version: 1, createdAt: '', updatedAt: '' };
}

beforeEach(() => setLocale('en'));

describe('quote arithmetic (the server rules of sales/money.py)', () => {
  it('rounds half up, away from zero', () => {
    expect(roundHalfUp(5n, 10n)).toBe(1n);
    expect(roundHalfUp(4n, 10n)).toBe(0n);
    expect(roundHalfUp(15n, 10n)).toBe(2n);
    expect(roundHalfUp(-5n, 10n)).toBe(-1n);
  });

  it('gives the same line and quote totals as the server for 40 generated quotes', () => {
    const fixtures = JSON.parse(readFileSync(new URL('./fixtures-money.json', import.meta.url), 'utf8')) as {
      cases: { lines: Parameters<typeof lineAmounts>[0][]; totals: number[]; discounts: number[]; depths: number[]; listTotal: number; total: number; bp: number }[];
    };
    expect(fixtures.cases).toHaveLength(40);
    for (const c of fixtures.cases) {
      const q = quoteAmounts(c.lines);
      expect(q.lines.map((l) => l.totalCents)).toEqual(c.totals);
      expect(q.lines.map((l) => l.discountCents)).toEqual(c.discounts);
      expect(q.lines.map((l) => l.depthBp)).toEqual(c.depths);
      expect([q.listTotalCents, q.totalCents, q.discountBp]).toEqual([c.listTotal, c.total, c.bp]);
    }
  });

  it('stays exact past 2^53 in the intermediate products (no float)', () => {
    // 10^9 × ¥9,999.99 at 33.33 %: the discount's numerator is ~3.3e18
    const a = lineAmounts({ quantity: 1_000_000_000, listPriceCents: 999_999, unitPriceCents: 999_999, discountBp: 3333 });
    expect(a).toEqual({ grossCents: 999_999_000_000_000, listCents: 999_999_000_000_000, discountCents: 333_299_666_700_000, totalCents: 666_699_333_300_000, depthBp: 3333 });
    expect(quoteAmounts([{ quantity: 2, listPriceCents: 10 ** 15, unitPriceCents: 10 ** 15, discountBp: 0 }]).tooLarge).toBe(true);
  });

  it('a half cent rounds up: ¥0.05 at 10 % is a discount of 1 cent, ¥0.04 none', () => {
    expect(lineAmounts({ quantity: 1, listPriceCents: 5, unitPriceCents: 5, discountBp: 1000 }).discountCents).toBe(1);
    expect(lineAmounts({ quantity: 1, listPriceCents: 4, unitPriceCents: 4, discountBp: 1000 }).discountCents).toBe(0);
    expect(depthBp(0, 0)).toBe(0);
    expect(depthBp(100, 120)).toBe(0);
  });

  it('reads yuan and percentages as typed, without floats', () => {
    expect(parseYuan('12800')).toBe(1_280_000);
    expect(parseYuan('1,234.5')).toBe(123_450);
    expect(parseYuan('¥ 0.07')).toBe(7);
    expect(parseYuan('0.1')).toBe(10);
    expect(parseYuan('1.234')).toBeNull();
    expect(parseYuan('-5')).toBeNull();
    expect(parseYuan('abc')).toBeNull();
    expect(parsePercent('12.5')).toBe(1250);
    expect(parsePercent('12.5%')).toBe(1250);
    expect(parsePercent('')).toBe(0);
    expect(parsePercent('100')).toBe(10_000);
    expect(parsePercent('100.01')).toBeNull();
    expect(parsePercent('0.125')).toBeNull();
    expect(percentText(1250)).toBe('12.5');
    expect(percentText(1205)).toBe('12.05');
    expect(percentText(500)).toBe('5');
    expect(yuanInput(123_450)).toBe('1234.50');
    expect(yuanInput(1_280_000)).toBe('12800');
    expect(yuanExact(123_456_789)).toBe('¥1,234,567.89');
  });
});

describe('form checks', () => {
  const input = { accountId: 'a1', name: '5G 专网', stage: 'proposal', amount: '128000.50', expectedClose: '2026-12-31', productIds: [], competitor: '', nextStep: '', lostReason: '' };

  it('takes a good opportunity and gives its amount in cents', () => {
    const { errors, values } = validateOpportunity(input, STAGES);
    expect(errors).toEqual({});
    expect(values?.amountCents).toBe(12_800_050);
    expect(values?.expectedClose).toBe('2026-12-31');
  });

  it('asks why when an opportunity is closed as lost, and names bad fields', () => {
    expect(validateOpportunity({ ...input, stage: 'lost' }, STAGES).errors.lostReason).toMatch(/why it was lost/);
    expect(validateOpportunity({ ...input, stage: 'lost', lostReason: '价格' }, STAGES).values?.lostReason).toBe('价格');
    const bad = validateOpportunity({ ...input, name: ' ', amount: '12,80.555', stage: 'nope', accountId: '' }, STAGES).errors;
    expect(Object.keys(bad).sort()).toEqual(['account', 'amount', 'name', 'stage']);
  });

  const products = new Map([product('p1', 100_000, 500), product('p2', 1_999, 0)].map((p) => [p.id, p]));
  const line = (over: Partial<LineDraft> = {}): LineDraft => ({ productId: 'p1', quantity: '2', unitPrice: '', discount: '12', ...over });

  it('turns the builder lines into what the server takes (list price left to the server)', () => {
    const { errors, values } = validateQuote({ title: '', validUntil: '2026-12-31', notes: '', lines: [line(), line({ productId: 'p2', unitPrice: '15.5', discount: '' })] }, products, { submitting: true, today: '2026-11-24' });
    expect(errors).toEqual({});
    expect(values?.lines).toEqual([
      { productId: 'p1', quantity: 2, discountBp: 1200 },
      { productId: 'p2', quantity: 2, unitPriceCents: 1550, discountBp: 0 },
    ]);
  });

  it('marks each bad cell of a line, and the submit rules', () => {
    const { errors } = validateQuote({ title: '', validUntil: '2026-11-01', notes: '', lines: [line({ quantity: '0', discount: '120', unitPrice: 'x' }), line({ productId: 'gone' })] }, products, { submitting: true, today: '2026-11-24' });
    expect(Object.keys(errors).sort()).toEqual(['lines.0.discount', 'lines.0.quantity', 'lines.0.unitPrice', 'lines.1.product', 'validUntil']);
    expect(validateQuote({ title: '', validUntil: '', notes: '', lines: [] }, products, { submitting: true, today: '2026-11-24' }).errors.lines).toMatch(/at least one/);
    // a draft may be saved empty and with a past date
    expect(validateQuote({ title: '', validUntil: '2026-11-01', notes: '', lines: [] }, products, { submitting: false, today: '2026-11-24' }).errors).toEqual({});
  });

  it('a case needs a customer and a title', () => {
    expect(Object.keys(validateCase({ accountId: '', type: 'complaint', priority: 'high', title: '  ', description: '' })).sort()).toEqual(['account', 'title']);
    expect(validateCase({ accountId: 'a', type: 'fault', priority: 'urgent', title: '专线中断', description: '' })).toEqual({});
  });

  it('has every message in both languages', () => {
    expect(Object.keys(SALES_CATALOGUES['zh-CN']).sort()).toEqual(Object.keys(SALES_CATALOGUES.en).sort());
    setLocale('zh-CN');
    expect(validateOpportunity({ ...input, stage: 'lost' }, STAGES).errors.lostReason).toBe('标记为丢单前请填写丢单原因。');
  });
});

describe('conflicts shown plainly', () => {
  const format = { label: (f: string) => f.toUpperCase(), value: (_f: string, v: unknown) => String(v) };
  const record = (over: Partial<RejectedMutation> = {}): RejectedMutation => ({
    mutation: { id: 4, name: 'opportunity.update', args: { id: 'o1', baseVersion: 2, changes: { stage: 'lost', lostReason: '预算取消', nextStep: '回访' } }, capturedAt: '2026-11-24T01:00:00Z' },
    code: 'conflict',
    message: 'someone else changed stage meanwhile',
    conflicts: { stage: { yours: 'lost', server: 'won' } },
    rejectedAt: '2026-11-24T02:00:00Z',
    applied: true,
    ...over,
  });

  it('lists yours and the server’s value for each kept field', () => {
    const view = conflictView(record(), format);
    expect(view?.kind).toBe('opportunity');
    expect(view?.rows).toEqual([{ field: 'stage', label: 'STAGE', yours: 'lost', server: 'won' }]);
  });

  it('"keep mine" sends the value again on the version the device holds now, with what went with it', () => {
    expect(keepYours(record(), { id: 'o1', version: 5, stage: 'won' })).toEqual({
      name: 'opportunity.update',
      args: { id: 'o1', baseVersion: 5, changes: { stage: 'lost', lostReason: '预算取消' } },
    });
    // the server holds it already: nothing to send
    expect(keepYours(record(), { id: 'o1', version: 5, stage: 'lost' })).toBeNull();
  });

  it('a quote edited after submission points at the new revision', () => {
    const view = conflictView(
      record({
        mutation: { id: 5, name: 'quote.update', args: { id: 'q1', baseVersion: 1, changes: { title: 'x' } }, capturedAt: '' },
        code: 'revised',
        conflicts: { state: { yours: 'draft', server: 'submitted', revisionId: 'q2' } as never },
      }),
      format,
    );
    expect(view).toMatchObject({ kind: 'quote-revised', subjectId: 'q1', revisionId: 'q2', serverState: 'submitted' });
  });
});

describe('selling through the outbox', () => {
  it('a quote made offline shows at once with the device’s totals, and is fetched again once the server has it', async () => {
    const db = await freshDb();
    await db.put('accounts', { ...account({ id: 'a1', name: '济南钢铁' }), _s: '' });
    await db.put('cache', { key: PRODUCTS_KEY, at: '', data: [product('p1', 100_000, 500)] });
    await enqueue(db, { name: 'quote.create', args: { id: 'q1', accountId: 'a1', lines: [{ productId: 'p1', quantity: 3, discountBp: 1250 }], title: '', opportunityId: null, validUntil: null, notes: '' } }, author);
    const local = await db.get('quotes', 'q1');
    expect(local).toMatchObject({ state: 'draft', number: '', accountName: '济南钢铁', listTotalCents: 300_000, totalCents: 262_500, discountBp: 1250, _pending: true, _base: null });
    expect(local?.lines[0]).toMatchObject({ productName: 'Product p1', discountCents: 37_500, totalCents: 262_500 });

    const api = new FakeApi();
    await engine(db, api).run();
    expect(api.pushes()[0]!.mutations[0]!.name).toBe('quote.create');
    expect(await db.get('quotes', 'q1')).toMatchObject({ _stale: true });
    expect((await db.get('quotes', 'q1'))?._pending).toBeUndefined();
  });

  it('a rejected opportunity edit puts the server’s copy back; one applied with conflicts is listed to pick from', async () => {
    const db = await freshDb();
    await db.put('cache', { key: STAGES_KEY, at: '', data: STAGES });
    const server = { id: 'o1', accountId: 'a1', accountName: 'A', ownerId: 'u-rep', ownerName: '钱萍', name: '专线扩容', stage: 'lead', probability: 10, amountCents: 100_000, weightedCents: 10_000, expectedClose: null, productIds: [], competitor: '', nextStep: '', lostReason: '', closedAt: null, version: 3, createdAt: '', updatedAt: '' };
    await db.put('opportunities', { ...server });
    await enqueue(db, { name: 'opportunity.update', args: { id: 'o1', baseVersion: 3, changes: { stage: 'proposal', amountCents: 500_000 } } }, author);
    expect(await db.get('opportunities', 'o1')).toMatchObject({ stage: 'proposal', probability: 50, weightedCents: 250_000, _pending: true });

    const api = new FakeApi();
    api.push = (body) => ({ status: 200, body: { lastMutationId: body.mutations.at(-1)!.id, results: [{ id: body.mutations[0]!.id, status: 'rejected', code: 'invalid', message: 'no' }] } });
    await engine(db, api).run();
    // the server's copy again (and fetched once more, to be sure of it)
    expect(await db.get('opportunities', 'o1')).toEqual({ ...server, _stale: true });

    await enqueue(db, { name: 'opportunity.update', args: { id: 'o1', baseVersion: 3, changes: { stage: 'won' } } }, author);
    api.push = (body) => ({
      status: 200,
      body: { lastMutationId: body.mutations.at(-1)!.id, results: [{ id: body.mutations[0]!.id, status: 'applied', code: 'conflict', message: 'someone else changed stage meanwhile', conflicts: { stage: { yours: 'won', server: 'lost' } } }] },
    });
    await engine(db, api).run();
    const listed = (await db.getAll('rejected')).at(-1)!;
    expect(listed).toMatchObject({ code: 'conflict', applied: true, conflicts: { stage: { yours: 'won', server: 'lost' } } });
    expect(await db.get('opportunities', 'o1')).toMatchObject({ _stale: true });
  });

  it('an approval decided offline waits in the outbox and changes no local row', async () => {
    const db = await freshDb();
    const m = await enqueue(db, { name: 'approval.decide', args: { stepId: 's1', decision: 'approve', subjectVersion: 4, comment: '' } }, author);
    expect((await db.getAll('outbox')).map((x) => x.name)).toEqual(['approval.decide']);
    expect(m.args).toEqual({ stepId: 's1', decision: 'approve', subjectVersion: 4, comment: '' });
  });
});
