// The rep's map of my accounts (#/map): around my position or a place tapped on the map, pins
// coloured by coverage status and sized by tier, the distance to each, today's route in visiting
// order. Everything comes from IndexedDB and the app's own base map, so it works with no network.
// Tapping a pin shows the account with links to open it, plan a visit, or navigate there.
import type { App } from '../../app';
import { COVERAGE_STATUSES, type CoverageStatus } from '../../api/types';
import { formatDate, getLocale, t } from '../../i18n';
import { formatDistance, navigateHref, type LatLon } from '../../visits/geo';
import { boundsOf, loadMyMap, type MapAccount, type MyMapData } from '../../visits/mymap';
import { roughFix } from '../../visits/position';
import { clear, h, select } from '../dom';
import { href } from '../router';
import type { Screen } from '../shell';
import type { RepMapHandle } from '../map/rep-map';

export async function myMapScreen(app: App): Promise<Screen> {
  const userId = app.me?.user.id ?? '';
  let centre: LatLon | null = null;
  let centreKind: 'me' | 'place' = 'me';
  let accuracy: number | null = null;
  let status: CoverageStatus | '' = '';
  let data: MyMapData = { accounts: [], unplaced: 0, route: [] };
  let selected: string | null = null;
  let handle: RepMapHandle | null = null;
  let alive = true;
  let fitted = false;

  const dist = (m: number | null) => formatDistance(m, { m: t('unit.m'), km: t('unit.km') }, getLocale());
  const where = h('p', { class: 'muted small', testid: 'map-centre-text', role: 'status' });
  const routeText = h('p', { class: 'small', testid: 'map-route-summary' });
  const unplacedText = h('p', { class: 'muted small', testid: 'map-unplaced', hidden: true });
  const detail = h('section', { class: 'card', testid: 'map-selected', hidden: true });
  const list = h('ul', { class: 'plain-list rep-list', testid: 'map-list' });
  const mapBox = h('div', { class: 'rep-map', testid: 'rep-map' }, h('p', { class: 'muted' }, t('mymap.loadingMap')));
  const baseNote = h('p', { class: 'notice small', testid: 'map-no-base', hidden: true }, t('mymap.noBase'));

  const describe = () => {
    where.textContent = !centre
      ? t('mymap.noCentre')
      : centreKind === 'me'
        ? t('mymap.fromMe', { m: Math.round(accuracy ?? 0) })
        : t('mymap.fromPlace');
  };

  const paintDetail = () => {
    const a = data.accounts.find((x) => x.id === selected);
    if (!a) {
      detail.hidden = true;
      return;
    }
    clear(
      detail,
      h('div', { class: 'row between' }, h('strong', { testid: 'map-selected-name' }, a.name), h('span', { class: `badge st-${a.status}`, testid: 'map-selected-status', 'data-status': a.status }, t(`coverageStatus.${a.status}`))),
      h(
        'p',
        { class: 'muted small' },
        [a.tier ? t('mymap.tier', { tier: a.tier }) : null, a.city, a.lastVisitedOn ? t('mymap.lastVisit', { date: formatDate(a.lastVisitedOn) }) : t('mymap.never')].filter(Boolean).join(' · '),
      ),
      a.distanceM !== null ? h('p', { testid: 'map-selected-distance', 'data-m': a.distanceM }, dist(a.distanceM)) : null,
      h(
        'div',
        { class: 'row' },
        h('a', { class: 'btn btn-primary', href: href.account(a.id), testid: 'map-open' }, t('mymap.open')),
        h('a', { class: 'btn', href: href.planNew(a.id), testid: 'map-plan' }, t('mymap.plan')),
        h('a', { class: 'btn', href: navigateHref(a.latitude, a.longitude, a.name), target: '_blank', rel: 'noopener', testid: 'map-navigate' }, t('mymap.navigate')),
      ),
    );
    detail.hidden = false;
  };

  const item = (a: MapAccount) =>
    h(
      'li',
      { class: 'row between list-row', testid: 'map-list-item', 'data-id': a.id, 'data-status': a.status, 'data-m': a.distanceM ?? '' },
      h(
        'button',
        {
          type: 'button',
          class: 'linklike',
          onclick: () => {
            choose(a.id);
            handle?.focus(a);
          },
        },
        h('span', { class: `rep-dot st-${a.status}` }),
        `${a.name}${a.tier ? ` · ${a.tier}` : ''}`,
      ),
      h('span', { class: 'muted small' }, a.distanceM !== null ? dist(a.distanceM) : t(`coverageStatus.${a.status}`)),
    );

  const choose = (id: string) => {
    selected = id;
    paintDetail();
  };

  const paint = async () => {
    data = await loadMyMap(app.db, { userId, centre, status });
    if (!alive) return;
    describe();
    routeText.textContent = data.route.length ? t('mymap.route', { n: data.route.length }) : t('mymap.noRoute');
    routeText.dataset.count = String(data.route.length);
    unplacedText.hidden = data.unplaced === 0;
    unplacedText.textContent = t('mymap.unplaced', { n: data.unplaced });
    clear(list, data.accounts.length ? data.accounts.slice(0, 30).map(item) : h('li', { class: 'empty', testid: 'map-empty' }, t('mymap.none')));
    paintDetail();
    if (handle) {
      handle.setAccounts(data.accounts);
      handle.setRoute(data.route);
      handle.setCentre(centre, centreKind);
      if (!fitted) {
        fitted = true;
        handle.fit(boundsOf([...data.route, ...data.accounts.slice(0, 50), ...(centre ? [centre] : [])]));
      }
    }
  };

  /** `auto`: the fix asked for on opening (the map then shows me and my accounts), else the button (the map goes to me). */
  const locate = async (auto = false) => {
    locateButton.disabled = true;
    where.textContent = t('mymap.locating');
    const fix = await roughFix();
    locateButton.disabled = false;
    if (!alive) return;
    if (fix.ok) {
      centre = { latitude: fix.fix.latitude, longitude: fix.fix.longitude };
      accuracy = fix.fix.accuracyM;
      centreKind = 'me';
      if (auto) fitted = false;
      await paint();
      if (!auto) handle?.focus(centre);
    } else {
      describe();
      where.textContent = t('mymap.noFix', { why: fix.error === 'denied' ? t('fix.denied') : t('fix.none') });
    }
  };
  const locateButton = h('button', { type: 'button', class: 'btn', testid: 'map-locate', onclick: () => void locate() }, t('mymap.locate'));
  const filter = select(
    {
      testid: 'map-filter-status',
      'aria-label': t('mymap.statusFilter'),
      onchange: (e: Event) => {
        status = (e.target as HTMLSelectElement).value as CoverageStatus | '';
        void paint();
      },
    },
    [['', t('mymap.allStatuses')] as const, ...COVERAGE_STATUSES.map((x) => [x, t(`coverageStatus.${x}`)] as const)],
    '',
  );
  const legend = h(
    'p',
    { class: 'rep-legend', testid: 'map-legend' },
    COVERAGE_STATUSES.map((x) => h('span', null, h('i', { class: `st-${x}` }), t(`coverageStatus.${x}`))),
    h('span', { class: 'muted' }, t('mymap.tierLegend')),
  );

  await paint();
  // Leaflet and the map code load on first use (their own chunk, precached for offline use).
  void import('../map/rep-map').then(({ mountRepMap }) => {
    if (!alive) return;
    mapBox.replaceChildren();
    handle = mountRepMap(mapBox, {
      onPick: (place) => {
        centre = place;
        centreKind = 'place';
        accuracy = null;
        void paint();
      },
      onAccount: choose,
    });
    void handle.ready.then((ok) => {
      if (alive) baseNote.hidden = ok;
    });
    void paint();
  });
  void locate(true);

  return {
    el: h(
      'div',
      { class: 'stack', testid: 'mymap-screen' },
      h('div', { class: 'row' }, locateButton, filter),
      where,
      legend,
      mapBox,
      baseNote,
      routeText,
      unplacedText,
      detail,
      h('h2', { class: 'card-title' }, t('mymap.nearest')),
      list,
    ),
    title: t('mymap.title'),
    back: href.today(),
    refresh: paint,
    destroy() {
      alive = false;
      handle?.destroy();
    },
  };
}
