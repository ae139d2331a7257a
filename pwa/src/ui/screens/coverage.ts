// Coverage (leaders and HQ): the map — hexagons by share of accounts covered, points at high
// zoom — filtered by tier, status and team and fetched again as it moves (debounced); the coverage
// table by rep, team, city or province; and the neglected accounts, worst first. Leaflet loads
// only here (a separate chunk). Needs a network: the numbers are the server's.
import { COVERAGE_STATUSES, TIERS, type CoverageGroupBy, type CoverageMap, type CoverageReport, type NeglectedPage } from '../../api/types';
import { formatDate, formatMoney, formatNumber, t, type MsgKey } from '../../i18n';
import { clear, h, select } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import type { MapHandle, View } from '../map/coverage-map';

export const MOVE_DEBOUNCE_MS = 350;
const GROUPS: readonly CoverageGroupBy[] = ['rep', 'team', 'city', 'province'];
const COLUMNS: readonly MsgKey[] = [
  'coverage.col.name',
  'coverage.col.accounts',
  'coverage.col.covered',
  'coverage.col.dueSoon',
  'coverage.col.overdue',
  'coverage.col.never',
  'coverage.col.share',
];

// Kept while the app runs.
const state = { tier: '', status: '', team: '', groupBy: 'team' as CoverageGroupBy, tab: 'map' as 'map' | 'table' | 'neglected' };

export function mapQuery(view: View, filters: { tier: string; status: string; team: string }): string {
  const q = new URLSearchParams({ bbox: view.bbox, zoom: String(view.zoom) });
  if (filters.tier) q.set('tier', filters.tier);
  if (filters.status) q.set('status', filters.status);
  if (filters.team) q.set('orgUnitId', filters.team);
  return q.toString();
}

export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

export const coverageScreen: ScreenFactory = async (app) => {
  let alive = true;
  let handle: MapHandle | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let mapRequest = 0;

  const tier = select({ testid: 'coverage-filter-tier', 'aria-label': t('accounts.tierAll') }, [['', t('accounts.tierAll')], ...TIERS.map((x) => [x, t('accounts.tier', { tier: x })] as const)], state.tier);
  const status = select(
    { testid: 'coverage-filter-status', 'aria-label': t('coverage.statusAll') },
    [['', t('coverage.statusAll')], ...COVERAGE_STATUSES.map((x) => [x, t(`coverageStatus.${x}`)] as const)],
    state.status,
  );
  const team = select({ testid: 'coverage-filter-team', 'aria-label': t('coverage.teamAll') }, [['', t('coverage.teamAll')]], state.team);
  const mapBox = h('div', { class: 'coverage-map', testid: 'coverage-map' });
  const mapNote = h('p', { class: 'muted small', testid: 'coverage-map-note', role: 'status' });
  const legend = h(
    'div',
    { class: 'map-legend small' },
    h('span', { class: 'legend-grad' }),
    h('span', null, t('coverage.legend')),
  );
  const groupBy = select({ testid: 'coverage-group-by', 'aria-label': t('coverage.groupBy'), class: 'coverage-group-by' }, GROUPS.map((g) => [g, t(`groupBy.${g}`)] as const), state.groupBy);
  // Scrolls sideways on a phone: reachable and scrollable by keyboard (a focusable, named region).
  const table = h('div', { class: 'table-wrap coverage-table-wrap', testid: 'coverage-table', tabindex: '0', role: 'region', 'aria-label': t('coverage.tab.table') });
  const tableNote = h('p', { class: 'muted small', testid: 'coverage-targets' });
  const neglected = h('ol', { class: 'plain-list', testid: 'neglected-list' });
  const tabButtons = (['map', 'table', 'neglected'] as const).map((key) =>
    h('button', { type: 'button', class: 'seg-btn', testid: `coverage-tab-${key}`, onclick: () => showTab(key) }, t(`coverage.tab.${key}`)),
  );
  const panels = {
    map: h('section', { class: 'card', testid: 'coverage-panel-map' }, h('div', { class: 'filters filters-3 coverage-filters', testid: 'coverage-filters' }, tier, status, team), mapBox, legend, mapNote),
    table: h('section', { class: 'card', testid: 'coverage-panel-table' }, groupBy, tableNote, table),
    neglected: h('section', { class: 'card', testid: 'coverage-panel-neglected' }, neglected),
  };

  const failure = (r: { status: number; problem: { detail?: string } | null }) => (r.status === 0 ? t('coverage.offline') : (r.problem?.detail ?? `HTTP ${r.status}`));

  const loadMap = async () => {
    if (!handle) return;
    const mine = ++mapRequest;
    const result = await app.api.get<CoverageMap>(`/api/coverage/map?${mapQuery(handle.view(), state)}`);
    if (!alive || mine !== mapRequest || !handle) return;
    if (!result.ok) {
      mapNote.textContent = failure(result);
      return;
    }
    handle.setData(result.data);
    const n = result.data.mode === 'hex' ? result.data.cells.reduce((s, c) => s + c.accounts, 0) : result.data.points.length;
    mapNote.textContent = [t(result.data.mode === 'hex' ? 'coverage.hexMode' : 'coverage.pointMode', { n }), result.data.truncated ? t('coverage.truncated') : '']
      .filter(Boolean)
      .join(' ');
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void loadMap(), MOVE_DEBOUNCE_MS);
  };

  const loadTable = async () => {
    clear(table, h('p', { class: 'muted' }, t('review.loading')));
    const result = await app.api.get<CoverageReport>(`/api/coverage?groupBy=${state.groupBy}`);
    if (!alive) return;
    if (!result.ok) {
      clear(table, h('p', { class: 'muted' }, failure(result)));
      return;
    }
    const r = result.data;
    const row = (x: CoverageReport['total'], total = false) =>
      h(
        'tr',
        { testid: total ? 'coverage-total' : 'coverage-row', 'data-key': x.key, class: total ? 'total' : undefined },
        // The server names the total row "total": it is said in the reader's language.
        h('th', { scope: 'row' }, total ? t('coverage.total') : x.name),
        h('td', null, formatNumber(x.accounts)),
        h('td', null, formatNumber(x.covered)),
        h('td', null, formatNumber(x.dueSoon)),
        h('td', null, formatNumber(x.overdue)),
        h('td', null, formatNumber(x.never)),
        h('td', { 'data-share': String(x.coveredShare) }, percent(x.coveredShare)),
      );
    clear(tableNote, t('coverage.targets', { a: r.targets.a, b: r.targets.b, c: r.targets.c, date: formatDate(r.on) }));
    clear(
      table,
      h(
        'table',
        { class: 'data-table coverage-table' },
        h('caption', { class: 'sr-only' }, t('coverage.tableLabel', { group: t(`groupBy.${state.groupBy}`) })),
        h(
          'thead',
          null,
          h('tr', null, ...COLUMNS.map((k) => h('th', { scope: 'col' }, t(k)))),
        ),
        h('tbody', null, r.rows.map((x) => row(x)), row(r.total, true)),
      ),
    );
  };

  const loadTeams = async () => {
    const result = await app.api.get<CoverageReport>('/api/coverage?groupBy=team');
    if (!alive || !result.ok) return;
    const current = state.team;
    clear(team, h('option', { value: '' }, t('coverage.teamAll')), result.data.rows
      // accounts whose owner has no team come as key "none": not a filter
      .filter((r) => /^[0-9a-f-]{36}$/i.test(r.key))
      .map((r) => h('option', { value: r.key, selected: r.key === current }, r.name)));
  };

  const loadNeglected = async () => {
    const q = new URLSearchParams({ limit: '100' });
    if (state.tier) q.set('tier', state.tier);
    const result = await app.api.get<NeglectedPage>(`/api/coverage/neglected?${q}`);
    if (!alive) return;
    if (!result.ok) {
      clear(neglected, h('li', { class: 'muted' }, failure(result)));
      return;
    }
    clear(
      neglected,
      h('li', { class: 'muted small', testid: 'neglected-total', 'data-count': String(result.data.total) }, t('coverage.neglectedCount', { n: result.data.total })),
      result.data.items.map((a) =>
        h(
          'li',
          { testid: 'neglected-item', 'data-id': a.accountId, 'data-status': a.status },
          h(
            'a',
            { class: 'neglected-row', href: href.account(a.accountId) },
            h('span', { class: `tier tier-${a.tier ?? 'none'}` }, a.tier ?? '–'),
            h(
              'span',
              { class: 'acct-row-main' },
              h('span', { class: 'acct-row-name' }, a.name),
              h('span', { class: 'acct-row-sub' }, [a.code, a.city, a.ownerName].filter(Boolean).join(' · ')),
            ),
            h(
              'span',
              { class: 'acct-row-side' },
              h('span', { class: `badge cov-${a.status}` }, a.daysOverdue === null ? t('coverage.neverVisited') : t('coverage.overdueDays', { n: a.daysOverdue })),
              h('span', { class: 'muted' }, formatMoney(a.revenue12MCents, true)),
            ),
          ),
        ),
      ),
    );
  };

  /** Where the accounts on the device are (the first view of the map). */
  const accountBounds = async (): Promise<[[number, number], [number, number]] | null> => {
    let s = 90;
    let w = 180;
    let n = -90;
    let e = -180;
    let any = false;
    for (const a of await app.db.getAll('accounts')) {
      if (a.latitude === null || a.longitude === null) continue;
      any = true;
      s = Math.min(s, a.latitude);
      n = Math.max(n, a.latitude);
      w = Math.min(w, a.longitude);
      e = Math.max(e, a.longitude);
    }
    return any ? [[s, w], [n, e]] : null;
  };

  const showTab = (key: typeof state.tab) => {
    state.tab = key;
    for (const [i, b] of tabButtons.entries()) {
      const on = (['map', 'table', 'neglected'] as const)[i] === key;
      b.classList.toggle('seg-on', on);
      b.setAttribute('aria-pressed', String(on));
    }
    for (const [k, panel] of Object.entries(panels)) panel.hidden = k !== key;
    if (key === 'map') void ensureMap();
    if (key === 'table') void loadTable();
    if (key === 'neglected') void loadNeglected();
  };

  const ensureMap = async () => {
    if (handle) {
      requestAnimationFrame(() => soon());
      return;
    }
    mapNote.textContent = t('coverage.loadingMap');
    try {
      const { mountMap } = await import('../map/coverage-map');
      await new Promise((resolve) => requestAnimationFrame(resolve));
      if (!alive || handle) return;
      handle = mountMap(mapBox, { onMove: soon, bounds: await accountBounds() });
      void loadMap();
    } catch (error) {
      // The map's code is not on this device (first visit offline, before the app cached it).
      mapNote.textContent = t('coverage.mapUnavailable', { message: String(error) });
    }
  };

  for (const [control, key] of [
    [tier, 'tier'],
    [status, 'status'],
    [team, 'team'],
  ] as const) {
    control.addEventListener('change', () => {
      state[key] = control.value;
      void loadMap();
      if (key === 'tier' && state.tab === 'neglected') void loadNeglected();
    });
  }
  groupBy.addEventListener('change', () => {
    state.groupBy = groupBy.value as CoverageGroupBy;
    void loadTable();
  });

  const el = h(
    'div',
    { class: 'stack', testid: 'coverage-screen' },
    h('div', { class: 'seg', role: 'group' }, tabButtons),
    panels.map,
    panels.table,
    panels.neglected,
  );
  showTab(state.tab);
  void loadTeams();

  return {
    el,
    title: t('coverage.title'),
    destroy() {
      alive = false;
      clearTimeout(timer);
      handle?.destroy();
      handle = null;
    },
  };
};
