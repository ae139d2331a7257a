// Pieces the selling screens share: an account picker over the device's accounts, money and
// percentage text, state badges, a section card.
import type { App } from '../../app';
import { filterAccounts, loadAccountList, type AccountListItem } from '../../db/local';
import { formatMoney, getLocale, t } from '../../i18n';
import { h, type Child } from '../../ui/dom';
import { percentText } from '../money';
import { s, type SalesKey } from '../i18n';
import type { QuoteState, Stage } from '../types';

export function card(testid: string, title: string | null, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card', testid }, title ? h('h2', { class: 'card-title' }, title) : null, ...children);
}

/** Money to the cent ("¥1,234.56"), in the locale's style. */
export function money(cents: number): string {
  return new Intl.NumberFormat(getLocale(), { style: 'currency', currency: 'CNY', minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(cents / 100);
}

export { formatMoney };

export function percent(bp: number): string {
  return `${percentText(bp)}%`;
}

export function pendingBadge(testid = 'sales-pending'): HTMLElement {
  return h('span', { class: 'badge badge-pending', testid }, t('acct.pending'));
}

export function quoteStateBadge(state: QuoteState | string, testid = 'quote-state'): HTMLElement {
  const key = `quoteState.${state}` as SalesKey;
  return h('span', { class: `badge sales-state sales-state-${state}`, testid, 'data-state': state }, s(key));
}

export function stageName(stages: readonly Stage[], key: string): string {
  const stage = stages.find((x) => x.key === key);
  if (!stage) return key;
  return getLocale() === 'zh-CN' && stage.nameZh ? stage.nameZh : stage.name;
}

/** What "saved" means now: on its way (online), or kept here until there is a network. */
export function savedText(): string {
  return navigator.onLine ? s('saved.online') : s('saved.offline');
}

/** "needs a network" when offline, for things only the server can do (submit, create a case). */
export function offlineNote(testid: string, key: SalesKey): HTMLElement {
  return h('p', { class: 'notice', testid, hidden: navigator.onLine }, s(key));
}

export interface Picker {
  el: HTMLElement;
  value(): string;
  setError(message: string | undefined): void;
}

/** Search the device's accounts and pick one (a select under a search box, as the plan form does). */
export async function accountPicker(app: App, id: string, preset: string | undefined): Promise<Picker> {
  const all: AccountListItem[] = await loadAccountList(app.db);
  const search = h('input', { type: 'search', id: `${id}-search`, testid: `${id}-search`, placeholder: t('accounts.search'), autocomplete: 'off' });
  const picker = h('select', { id, testid: id, size: 4, class: 'plan-picker', 'aria-label': s('pick.account') });
  const error = h('p', { class: 'field-error', testid: `${id}-error`, hidden: true });
  const fill = () => {
    const shown = filterAccounts(all, { q: search.value, tier: '', status: '' }).slice(0, 50);
    const current = picker.value || preset || '';
    picker.replaceChildren(...shown.map((a) => h('option', { value: a.id, selected: a.id === current }, `${a.name} · ${a.code}`)));
    if (!picker.value && shown.length === 1) picker.value = shown[0]!.id;
  };
  search.addEventListener('input', fill);
  const chosen = preset ? all.find((a) => a.id === preset) : undefined;
  if (chosen) search.value = chosen.code;
  fill();
  return {
    el: h('div', { class: 'field' }, h('label', { for: `${id}-search` }, s('pick.account')), search, picker, error),
    value: () => picker.value,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
    },
  };
}

/** A labelled input with its error line (testids `<id>` and `<id>-error`). */
export function labelled<E extends HTMLElement>(id: string, label: string, input: E, hint?: string): { row: HTMLElement; input: E; setError(m: string | undefined): void } {
  input.id = id;
  input.setAttribute('data-testid', id);
  const error = h('p', { class: 'field-error', testid: `${id}-error`, hidden: true });
  return {
    row: h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'muted small' }, hint) : null, error),
    input,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

export function problemText(result: { status: number; problem: { detail?: string } | null }): string {
  return result.status === 0 ? s('net.offline') : (result.problem?.detail ?? `HTTP ${result.status}`);
}
