import { STATUSES, TIERS, type AccountStatus, type Tier } from '../../api/types';
import { filterAccounts, loadAccountList, type AccountFilter, type AccountListItem } from '../../db/local';
import { formatMoney, t } from '../../i18n';
import { h, select } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import { virtualList } from '../vlist';

export const ROW_HEIGHT = 72;

// Kept while the app runs, so coming back from an account shows the same search and position.
const state: AccountFilter & { scroll: number } = { q: '', tier: '', status: '', scroll: 0 };

function row(a: AccountListItem): HTMLElement {
  return h(
    'a',
    { class: 'acct-row', href: href.account(a.id), testid: 'account-item', 'data-id': a.id, 'data-code': a.code },
    h('span', { class: `tier tier-${a.tier ?? 'none'}`, 'aria-label': a.tier ? t('accounts.tier', { tier: a.tier }) : '' }, a.tier ?? '–'),
    h(
      'span',
      { class: 'acct-row-main' },
      h('span', { class: 'acct-row-name' }, a.name),
      h('span', { class: 'acct-row-sub' }, [a.code, a.city, a.industry].filter(Boolean).join(' · ')),
    ),
    h(
      'span',
      { class: 'acct-row-side' },
      h('span', { class: 'acct-row-revenue' }, formatMoney(a.revenue, true)),
      h('span', { class: `badge status-${a.status}` }, t(`acctStatus.${a.status}`)),
      a.pending ? h('span', { class: 'pending-dot', testid: 'account-pending', title: t('accounts.pending') }) : null,
    ),
  );
}

export const accountsScreen: ScreenFactory = async (app) => {
  let all = await loadAccountList(app.db);

  const search = h('input', {
    type: 'search',
    class: 'search',
    testid: 'account-search',
    placeholder: t('accounts.search'),
    'aria-label': t('accounts.search'),
    enterkeyhint: 'search',
    value: state.q,
  });
  const tier = select(
    { class: 'filter', testid: 'filter-tier', 'aria-label': t('accounts.tierAll') },
    [['', t('accounts.tierAll')], ...TIERS.map((x) => [x, t('accounts.tier', { tier: x })] as const)],
    state.tier,
  );
  const status = select(
    { class: 'filter', testid: 'filter-status', 'aria-label': t('accounts.statusAll') },
    [['', t('accounts.statusAll')], ...STATUSES.map((x) => [x, t(`acctStatus.${x}`)] as const)],
    state.status,
  );
  const count = h('p', { class: 'list-count', testid: 'account-count', 'aria-live': 'polite' });
  const empty = h('p', { class: 'empty', testid: 'account-empty', hidden: true });
  const list = virtualList<AccountListItem>({ rowHeight: ROW_HEIGHT, render: row, testid: 'account-list', label: t('nav.accounts') });

  const apply = (keepScroll: boolean) => {
    const shown = filterAccounts(all, state);
    // The first sync brings the accounts page by page: say the count is still growing.
    const loading = app.engine.status.running && !app.engine.status.lastSyncAt;
    count.textContent = loading ? t('accounts.loadingMore', { n: shown.length }) : t('accounts.count', { n: shown.length });
    count.dataset.count = String(shown.length);
    count.dataset.loading = String(loading);
    count.setAttribute('aria-busy', String(loading));
    empty.hidden = shown.length > 0;
    empty.textContent = all.length === 0 ? (app.engine.status.running ? t('accounts.loading') : t('accounts.none')) : t('accounts.empty');
    list.setItems(shown, keepScroll);
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.q = search.value;
      apply(false);
    }, 120);
  });
  tier.addEventListener('change', () => {
    state.tier = tier.value as Tier | '';
    apply(false);
  });
  status.addEventListener('change', () => {
    state.status = status.value as AccountStatus | '';
    apply(false);
  });
  let wasLoading = app.engine.status.running && !app.engine.status.lastSyncAt;
  const offStatus = app.engine.events.on('status', (next) => {
    const loading = next.running && !next.lastSyncAt;
    if (all.length === 0 || loading !== wasLoading) apply(true);
    wasLoading = loading;
  });

  const el = h(
    'section',
    { class: 'accounts', testid: 'accounts-screen' },
    h('div', { class: 'list-tools' }, search, h('div', { class: 'filters' }, tier, status), count, h('a', { class: 'btn btn-small', href: '#/prospects/new', testid: 'account-new-link' }, `+ ${t('newacct.link')}`)),
    empty,
    list.el,
  );
  apply(true);
  requestAnimationFrame(() => list.restoreScroll(state.scroll));

  return {
    el,
    title: t('nav.accounts'),
    fill: true,
    async refresh() {
      all = await loadAccountList(app.db);
      apply(true);
    },
    destroy() {
      state.scroll = list.scrollTop();
      clearTimeout(timer);
      offStatus();
      list.destroy();
    },
  };
};
