// What the admin screens share: paging through a list endpoint, the server's problems in words,
// tables a keyboard can reach, and the "not for your role" notice.
import type { App } from '../../app';
import type { ApiResult } from '../../api/client';
import { h, type Child } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { ax, hasAdminKey } from '../i18n';

export interface Page<T> {
  items: T[];
  total: number;
  nextCursor: string | null;
}

export interface OrgUnit {
  id: string;
  name: string;
  kind: 'hq' | 'province' | 'city' | 'team';
  parentId: string | null;
  path: string;
  depth: number;
}

export interface User {
  id: string;
  username: string;
  displayName: string;
  role: 'rep' | 'manager' | 'director' | 'hq_admin';
  orgUnitId: string;
  orgUnitName: string;
  email: string | null;
  phone: string | null;
  locale: string;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
}

export const ROLES: readonly User['role'][] = ['rep', 'manager', 'director', 'hq_admin'];
export const KINDS: readonly OrgUnit['kind'][] = ['hq', 'province', 'city', 'team'];

/** Every item of a paged list (100 a page), up to `max`. */
export async function fetchAll<T>(app: App, path: string, max = 5000): Promise<{ ok: true; items: T[]; total: number } | { ok: false; message: string }> {
  const items: T[] = [];
  let cursor: string | null = null;
  let total = 0;
  const sep = path.includes('?') ? '&' : '?';
  do {
    const result: ApiResult<Page<T>> = await app.api.get<Page<T>>(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!result.ok) return { ok: false, message: problemText(result) };
    items.push(...result.data.items);
    total = result.data.total;
    cursor = result.data.nextCursor;
  } while (cursor && items.length < max);
  return { ok: true, items, total };
}

/** A failed call in words a person can act on: no network, not allowed, or the server's own message. */
export function problemText(result: ApiResult<unknown>): string {
  if (result.ok) return '';
  if (result.status === 0) return ax('err.offline');
  if (result.status === 403) return ax('err.forbidden');
  const detail = result.problem?.detail;
  if (!detail) return ax('err.status', { status: result.status });
  return detail.charAt(0).toUpperCase() + detail.slice(1) + (/[.!?。]$/.test(detail) ? '' : '.');
}

export function problemField(result: ApiResult<unknown>): string {
  return (!result.ok && result.problem?.field) || '';
}

/** A table in a scrolling box the keyboard can reach (tabindex, a label for screen readers). */
export function dataTable(label: string, testid: string, head: readonly string[], rows: readonly HTMLTableRowElement[], numeric: readonly number[] = [], narrowHide: readonly number[] = []): HTMLElement {
  // Columns a phone leaves out (they are in the row's detail panel).
  for (const row of rows) for (const i of narrowHide) row.cells[i]?.classList.add('narrow-hide');
  return h(
    'div',
    { class: 'table-wrap admin-table-wrap', tabindex: '0', role: 'region', 'aria-label': label },
    h(
      'table',
      { class: 'data-table admin-table', testid },
      h('caption', { class: 'sr-only' }, label),
      h('thead', null, h('tr', null, head.map((text, i) => h('th', { scope: 'col', class: [numeric.includes(i) ? 'num' : '', narrowHide.includes(i) ? 'narrow-hide' : ''].join(' ').trim() || undefined }, text)))),
      h('tbody', null, rows),
    ),
  );
}

export function message(testid: string): { el: HTMLElement; set(text: string, kind?: 'ok' | 'error'): void } {
  const el = h('p', { class: 'form-message', testid, role: 'status', hidden: true });
  return {
    el,
    set(text, kind = 'error') {
      el.textContent = text;
      el.hidden = !text;
      el.classList.toggle('form-error', kind === 'error');
      el.dataset.kind = kind;
    },
  };
}

export function labelled(id: string, label: string, input: HTMLElement, hint?: string): HTMLElement {
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'muted small' }, hint) : null);
}

export function panel(title: string, testid: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card admin-panel', testid, 'aria-label': title }, h('h2', { class: 'card-title' }, title), children);
}

export function notAllowed(title: string): Screen {
  return {
    el: h('div', { class: 'notice', testid: 'admin-forbidden', role: 'status' }, ax('err.hqOnly')),
    title,
    back: '#/admin',
  };
}

export function roleName(role: string): string {
  const key = `role.${role}`;
  return hasAdminKey(key) ? ax(key) : role;
}

export function kindName(kind: string): string {
  const key = `kind.${kind}`;
  return hasAdminKey(key) ? ax(key) : kind;
}

export const yuan = (cents: number): string => (cents / 100).toFixed(2);

/** "12800" or "12800.50" in yuan to cents; null when it is not an amount. */
export function parseYuan(text: string): number | null {
  const t = text.trim().replace(/,/g, '');
  if (!/^\d{1,11}(\.\d{1,2})?$/.test(t)) return null;
  const [whole, frac = ''] = t.split('.');
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2));
}
