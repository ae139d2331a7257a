import { describe, expect, it } from 'vitest';
import { parseRetryAfter, readCookie } from '../src/api/client';
import { buildTimeline, endingSoon, endsInDays, filterAccounts, revenueWindow, type AccountListItem } from '../src/db/local';
import { detectLocale, setLocale, t } from '../src/i18n';
import en from '../src/i18n/en';
import zhCN from '../src/i18n/zh-CN';
import { diff, parsePhones, validateContact } from '../src/lib/validate';
import { holding, note } from './helpers';

function item(over: Partial<AccountListItem>): AccountListItem {
  return { id: 'x', name: 'n', code: 'c', city: '', industry: '', tier: 'A', status: 'active', revenue: 0, pending: false, s: '', ...over };
}

describe('local reads', () => {
  it('search matches every word in name, code or contact names, with tier and status filters', () => {
    const items = [
      item({ id: '1', tier: 'A', status: 'active', s: '济南丰凯重工\njn0001\n王伟' }),
      item({ id: '2', tier: 'B', status: 'at_risk', s: '青岛海天\nqd0002\n刘洋' }),
      item({ id: '3', tier: 'A', status: 'lost', s: '济南众佳热力\njn0003\n李娜' }),
    ];
    const ids = (f: Parameters<typeof filterAccounts>[1]) => filterAccounts(items, f).map((a) => a.id);
    expect(ids({ q: '', tier: '', status: '' })).toEqual(['1', '2', '3']);
    expect(ids({ q: '济南', tier: '', status: '' })).toEqual(['1', '3']);
    expect(ids({ q: 'JN0003', tier: '', status: '' })).toEqual(['3']);
    expect(ids({ q: '刘洋', tier: '', status: '' })).toEqual(['2']);
    expect(ids({ q: '济南 王伟', tier: '', status: '' })).toEqual(['1']);
    expect(ids({ q: '济南', tier: 'A', status: 'lost' })).toEqual(['3']);
    expect(ids({ q: '', tier: 'B', status: '' })).toEqual(['2']);
  });

  it('the revenue window is the twelve months ending at the latest month', () => {
    expect(revenueWindow('2026-10')).toEqual([
      '2025-11', '2025-12', '2026-01', '2026-02', '2026-03', '2026-04', '2026-05', '2026-06', '2026-07', '2026-08', '2026-09', '2026-10',
    ]);
    expect(revenueWindow(undefined, new Date(2026, 0, 15)).at(-1)).toBe('2025-12');
  });

  it('contracts ending within 90 days are ending soon', () => {
    const today = new Date(2026, 10, 24);
    expect(endsInDays('2026-12-24', today)).toBe(30);
    expect(endingSoon(holding('a', { contractEnd: '2027-02-01' }), today)).toBe(true);
    expect(endingSoon(holding('a', { contractEnd: '2027-06-01' }), today)).toBe(false);
    expect(endingSoon(holding('a', { contractEnd: '2026-11-01' }), today)).toBe(false);
    expect(endingSoon(holding('a', { contractEnd: null }), today)).toBe(false);
  });

  it('the timeline merges notes, contract dates and the server log, newest first, without duplicates', () => {
    const today = new Date(2026, 10, 24);
    const items = buildTimeline(
      [{ ...note('a', { id: 'n1', text: 'visited', createdAt: '2026-11-20T10:00:00Z' }), _pending: true }],
      [holding('a', { product: '专线', contractStart: '2026-01-01', contractEnd: '2030-01-01' })],
      {
        accountId: 'a',
        fetchedAt: '',
        parent: null,
        members: [],
        memberCount: 0,
        timeline: [
          { at: '2026-11-21T00:00:00Z', kind: 'account.update', title: 'account changed', detail: 'name', actorName: 'x' },
          { at: '2026-01-01T00:00:00Z', kind: 'contract.start', title: 'dup', detail: '', actorName: '' },
          { at: '2026-11-20T10:00:00Z', kind: 'note.create', title: 'note', detail: '', actorName: '', refId: 'n1' },
        ],
      },
      today,
    );
    expect(items.map((i) => i.kind)).toEqual(['account.update', 'note', 'contract.start']);
    expect(items[1]!.pending).toBe(true);
  });
});

describe('helpers', () => {
  it('Retry-After in seconds or as a date', () => {
    expect(parseRetryAfter('12')).toBe(12_000);
    expect(parseRetryAfter(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(parseRetryAfter(null)).toBeNull();
  });

  it('reads the CSRF cookie', () => {
    expect(readCookie('fieldcrm_csrf', 'a=1; fieldcrm_csrf=tok%3D; b=2')).toBe('tok=');
    expect(readCookie('fieldcrm_csrf', 'a=1')).toBeNull();
  });

  it('validates contacts as the server does', () => {
    setLocale('en');
    expect(validateContact({ name: '', title: '', phones: [], email: null, notes: '' })).toHaveProperty('name');
    expect(validateContact({ name: 'x', title: '', phones: ['13800000000', '0531-8888 8888'], email: 'a@b.cn', notes: '' })).toEqual({});
    expect(validateContact({ name: 'x', title: '', phones: ['abc'], email: null, notes: '' })).toHaveProperty('phones');
    expect(validateContact({ name: 'x', title: '', phones: [], email: 'nope', notes: '' })).toHaveProperty('email');
    expect(parsePhones('138 0000 0000\n0531-1234，010-1')).toEqual(['138 0000 0000', '0531-1234', '010-1']);
    expect(diff({ a: 1, b: [1], c: 'x' }, { a: 1, b: [2], c: 'y' })).toEqual({ b: [2], c: 'y' });
  });

  it('both catalogues have every key, and the language follows the browser', () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    expect(detectLocale(['zh-TW'])).toBe('zh-CN');
    expect(detectLocale(['en-GB', 'zh-CN'])).toBe('en');
    setLocale('zh-CN');
    expect(t('status.pending', { n: 3 })).toBe('待同步：3');
    setLocale('en');
    expect(t('status.pending', { n: 3 })).toBe('Waiting: 3');
  });
});
