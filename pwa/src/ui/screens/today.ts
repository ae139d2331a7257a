// Today: the day's plan as planned, nearest first or as a short route from where the phone is,
// with the distance to each stop and in all, missed plans from earlier days, a link that opens the
// phone's maps app, and "Check in" per stop. Read from the device; fetched when online.
import { todayIso } from '../../db/local';
import type { LocalVisit } from '../../db/db';
import { formatDate, t } from '../../i18n';
import { navigateHref, type LatLon, type Order } from '../../visits/geo';
import { roughFix } from '../../visits/position';
import { fetchDay, fetchMissed, fetchRecentVisits, loadDay, type DayView, type ServerOrder } from '../../visits/store';
import { clear, h } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import { distanceText, visitRow } from './visit-bits';

const ORDERS: readonly Order[] = ['planned', 'nearest', 'route'];

// Kept while the app runs: coming back from a check-in shows the same order.
const state: { order: Order; at: LatLon | null; atTime: number } = { order: 'planned', at: null, atTime: 0 };

export function stopLine(item: DayView['items'][number], index: number, order: Order): string {
  const leg = item.distanceM;
  if (leg === null || leg === undefined) return item.latitude === null ? t('today.noLocation') : '';
  return index === 0 && order !== 'planned' ? t('today.fromHere', { d: distanceText(leg) }) : t('today.fromPrevious', { d: distanceText(leg) });
}

export const todayScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'today') throw new Error('wrong route');
  const today = todayIso();
  const date = route.date ?? today;
  let server: ServerOrder | null = null;
  let alive = true;

  const orderButtons = ORDERS.map((o) =>
    h(
      'button',
      {
        type: 'button',
        class: 'seg-btn',
        testid: `order-${o}`,
        onclick: () => void setOrder(o),
      },
      t(`order.${o}`),
    ),
  );
  const orderBar = h('div', { class: 'seg', role: 'group', testid: 'today-order', 'aria-label': t('today.order') }, orderButtons);
  const dateInput = h('input', {
    type: 'date',
    class: 'today-date',
    testid: 'today-date',
    value: date,
    'aria-label': t('today.date'),
    onchange: (e: Event) => {
      const v = (e.target as HTMLInputElement).value;
      if (v) location.hash = v === today ? href.today() : href.today(v);
    },
  });
  const position = h('p', { class: 'muted small', testid: 'today-position', role: 'status' });
  const totals = h('p', { class: 'today-total', testid: 'today-total' });
  const list = h('ol', { class: 'plain-list plan-list', testid: 'plan-list' });
  const missedBox = h('section', { class: 'card', testid: 'today-missed', hidden: true });
  const recentBox = h('section', { class: 'card', testid: 'recent-visits' });

  const paintOrder = () => {
    orderBar.dataset.order = state.order;
    for (const [i, b] of orderButtons.entries()) {
      const on = ORDERS[i] === state.order;
      b.classList.toggle('seg-on', on);
      b.setAttribute('aria-pressed', String(on));
    }
  };

  const planItem = (item: DayView['items'][number] | (DayView['missed'][number] & { distanceM?: number | null }), index: number, missed: boolean) => {
    const done = item.status === 'done' || !!item.visitId;
    const line = missed ? t('today.missedOn', { date: formatDate(item.date) }) : stopLine(item as DayView['items'][number], index, state.order);
    return h(
      'li',
      {
        class: `plan-item${done ? ' plan-done' : ''}${item.missed ? ' plan-missed' : ''}`,
        testid: missed ? 'missed-item' : 'plan-item',
        'data-id': item.id,
        'data-account-id': item.accountId,
        'data-status': item.missed ? 'missed' : item.status,
      },
      h(
        'div',
        { class: 'plan-head' },
        missed ? null : h('span', { class: 'plan-num' }, String(index + 1)),
        h('span', { class: `tier tier-${item.accountTier ?? 'none'}` }, item.accountTier ?? '–'),
        h(
          'div',
          { class: 'plan-main' },
          h('a', { class: 'plan-name', href: href.account(item.accountId) }, item.accountName),
          item.accountAddress ? h('span', { class: 'muted small' }, item.accountAddress) : null,
        ),
        done
          ? h('span', { class: 'badge status-active', testid: 'plan-done' }, t('plan.done'))
          : item.missed
            ? h('span', { class: 'badge status-lost', testid: 'plan-missed' }, t('plan.missed'))
            : null,
        item._pending ? h('span', { class: 'badge badge-pending', testid: 'plan-pending' }, t('acct.pending')) : null,
      ),
      item.purpose ? h('p', { class: 'plan-purpose' }, item.purpose) : null,
      line ? h('p', { class: 'muted small', testid: 'plan-distance', 'data-m': String(item.distanceM ?? '') }, line) : null,
      h(
        'div',
        { class: 'row plan-actions' },
        item.latitude !== null && item.longitude !== null
          ? h(
              'a',
              {
                class: 'btn btn-small',
                testid: 'plan-navigate',
                href: navigateHref(item.latitude, item.longitude, item.accountName),
                target: '_blank',
                rel: 'noopener',
              },
              t('today.navigate'),
            )
          : null,
        done && item.visitId
          ? h('a', { class: 'btn btn-small', testid: 'plan-visit', href: href.visit(item.visitId) }, t('today.openVisit'))
          : h('a', { class: 'btn btn-small btn-primary', testid: 'plan-checkin', href: href.checkin(item.accountId, item.id) }, t('today.checkin')),
      ),
      done ? null : cancelBox(item.id, item.accountName),
    );
  };

  // Cancelling takes two taps (the second confirms); saved on the device, sent at the next sync.
  const cancelBox = (id: string, name: string) => {
    const confirm = h(
      'div',
      { class: 'confirm', hidden: true },
      h('p', null, t('plan.cancelConfirm', { name })),
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-danger',
          testid: 'plan-cancel-confirm',
          onclick: async () => {
            await app.save({ name: 'plan.update', args: { id, cancelled: true } });
            app.toast(t('plan.cancelled'));
          },
        },
        t('plan.cancelYes'),
      ),
    );
    return h(
      'div',
      { class: 'plan-cancel' },
      h('button', { type: 'button', class: 'link-btn', testid: 'plan-cancel', onclick: () => (confirm.hidden = !confirm.hidden) }, t('plan.cancel')),
      confirm,
    );
  };

  const paint = async () => {
    const view = await loadDay(app.db, date, state.order, state.at, server, today);
    if (!alive) return;
    paintOrder();
    clear(list, view.items.map((item, i) => planItem(item, i, false)));
    if (!view.items.length) list.append(h('li', { class: 'empty', testid: 'today-empty' }, t('today.empty')));
    totals.dataset.m = String(view.totalDistanceM ?? '');
    totals.dataset.source = view.source;
    totals.textContent =
      view.totalDistanceM === null
        ? ''
        : state.order === 'planned' || view.plannedDistanceM === null
          ? t('today.total', { d: distanceText(view.totalDistanceM) })
          : t('today.totalVsPlanned', { d: distanceText(view.totalDistanceM), p: distanceText(view.plannedDistanceM) });
    missedBox.hidden = view.missed.length === 0;
    clear(
      missedBox,
      h('h2', { class: 'card-title' }, t('today.missed', { n: view.missed.length })),
      h('ul', { class: 'plain-list' }, view.missed.map((m, i) => planItem(m, i, true))),
    );
    const mine = app.me?.user.id;
    const recent = (await app.db.getAll('visits'))
      .filter((v: LocalVisit) => !mine || v.userId === mine || v._local)
      .sort((x, y) => (x.checkedInAt < y.checkedInAt ? 1 : -1))
      .slice(0, 10);
    clear(
      recentBox,
      h('h2', { class: 'card-title' }, t('today.recent')),
      recent.length ? h('ul', { class: 'plain-list' }, recent.map((v) => visitRow(v, 'recent-visit-item', true))) : h('p', { class: 'muted' }, t('today.noRecent')),
    );
  };

  const locate = async () => {
    if (state.order === 'planned') {
      position.textContent = '';
      return;
    }
    if (state.at && Date.now() - state.atTime < 5 * 60_000) {
      position.textContent = t('today.fromPosition');
      return;
    }
    position.textContent = t('today.locating');
    const result = await roughFix();
    if (result.ok) {
      state.at = { latitude: result.fix.latitude, longitude: result.fix.longitude };
      state.atTime = Date.now();
      position.textContent = t('today.fromPosition');
    } else {
      position.textContent = t(result.error === 'denied' ? 'today.positionDenied' : 'today.positionUnknown');
    }
  };

  let generation = 0;
  const fetchAll = async () => {
    if (!navigator.onLine) return;
    const mine = ++generation;
    const order = state.order;
    const fetched = await fetchDay(app, date, order, order === 'planned' ? null : state.at);
    // A later toggle wins over an answer still on its way.
    if (mine !== generation || !alive) return;
    server = fetched;
    await paint();
    if (date === today) await fetchMissed(app, today);
    await fetchRecentVisits(app);
    if (alive) await paint();
  };

  const setOrder = async (o: Order) => {
    state.order = o;
    server = null;
    generation++;
    paintOrder();
    totals.dataset.source = '';
    await locate();
    await paint();
    await fetchAll();
  };

  await paint();
  void (async () => {
    await locate();
    await fetchAll();
  })();

  const el = h(
    'div',
    { class: 'stack today', testid: 'today-screen', 'data-date': date },
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'today-head' }, dateInput, h('a', { class: 'btn btn-primary', href: href.planNew(), testid: 'plan-new-link' }, t('today.plan')), h('a', { class: 'btn', href: '#/map', testid: 'today-map-link' }, t('mymap.link'))),
      orderBar,
      position,
      totals,
    ),
    list,
    missedBox,
    recentBox,
  );

  return {
    el,
    title: date === today ? t('today.title') : formatDate(date),
    refresh: paint,
    destroy() {
      alive = false;
    },
  };
};
