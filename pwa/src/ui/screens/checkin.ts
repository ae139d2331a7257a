// Check in at an account: ask the phone for a fresh fix (never a cached one), show how accurate it
// is and how far from the account, and check in — also with a poor or no fix (the server decides
// and a manager reviews) and also offline (queued; the verdict comes after the sync).
import { t } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { distanceM, fixQuality } from '../../visits/geo';
import { freshFix, type FixResult } from '../../visits/position';
import { h } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import { distanceText } from './visit-bits';

export type FixState = 'locating' | 'good' | 'poor' | 'none' | 'denied';

export function fixState(result: FixResult | null): FixState {
  if (!result) return 'locating';
  if (!result.ok) return result.error === 'denied' ? 'denied' : 'none';
  return fixQuality(result.fix.accuracyM) === 'good' ? 'good' : 'poor';
}

export const checkinScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'checkin') throw new Error('wrong route');
  const account = await app.db.get('accounts', route.accountId);
  const back = route.planId ? href.today() : href.account(route.accountId);
  if (!account) return { el: h('p', { class: 'empty', testid: 'acct-not-found' }, t('acct.notFound')), title: t('checkin.title'), back };

  let result: FixResult | null = null;
  let alive = true;
  const radius = account.visitRadiusM;

  const state = h('p', { class: 'fix-state', testid: 'checkin-fix', role: 'status', 'aria-live': 'polite' });
  const accuracy = h('dd', { testid: 'checkin-accuracy' });
  const distance = h('dd', { testid: 'checkin-distance' });
  const hint = h('p', { class: 'muted small', testid: 'checkin-hint' });
  const retry = h('button', { type: 'button', class: 'btn', testid: 'checkin-retry', onclick: () => void locate() }, t('checkin.retry'));
  const submit = h('button', { type: 'button', class: 'btn btn-primary btn-block btn-big', testid: 'checkin-submit', onclick: () => void checkIn() });
  const offline = h('p', { class: 'notice', testid: 'checkin-offline', hidden: true }, t('checkin.offline'));
  const message = h('p', { class: 'form-error', testid: 'checkin-message', role: 'alert', hidden: true });

  const paint = () => {
    const s = fixState(result);
    state.dataset.state = s;
    state.textContent = t(`fix.${s}`);
    state.className = `fix-state fix-${s}`;
    const fix = result?.ok ? result.fix : null;
    accuracy.dataset.m = fix ? String(Math.round(fix.accuracyM)) : '';
    accuracy.textContent = fix ? `± ${distanceText(fix.accuracyM)}` : '—';
    const d = fix && account.latitude !== null && account.longitude !== null ? distanceM(fix.latitude, fix.longitude, account.latitude, account.longitude) : null;
    distance.dataset.m = d === null ? '' : String(Math.round(d));
    distance.textContent = d === null ? (account.latitude === null ? t('checkin.accountNoLocation') : '—') : distanceText(d);
    hint.textContent =
      d !== null && fix ? (d <= radius + fix.accuracyM ? t('checkin.inRange', { r: distanceText(radius) }) : t('checkin.outOfRange', { r: distanceText(radius) })) : '';
    retry.hidden = s === 'locating' || s === 'good';
    submit.disabled = s === 'locating';
    submit.textContent = s === 'good' ? t('checkin.submit') : s === 'locating' ? t('checkin.locating') : t('checkin.anyway');
    offline.hidden = navigator.onLine;
  };

  const locate = async () => {
    result = null;
    paint();
    const next = await freshFix();
    if (!alive) return;
    result = next;
    paint();
  };

  const checkIn = async () => {
    submit.disabled = true;
    message.hidden = true;
    const fix = result?.ok ? result.fix : null;
    const id = uuid();
    try {
      await app.save({
        name: 'visit.checkin',
        args: {
          id,
          accountId: account.id,
          planId: route.planId ?? null,
          latitude: fix?.latitude ?? null,
          longitude: fix?.longitude ?? null,
          accuracyM: fix ? Math.round(fix.accuracyM * 10) / 10 : null,
          fixAt: fix?.fixAt ?? null,
        },
      });
      app.toast(navigator.onLine ? t('checkin.done') : t('checkin.doneOffline'));
      location.replace(href.visit(id));
    } catch (error) {
      message.textContent = t('form.failed', { message: String(error) });
      message.hidden = false;
      submit.disabled = false;
    }
  };

  const onNet = () => paint();
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  paint();
  void locate();

  const el = h(
    'div',
    { class: 'stack', testid: 'checkin-screen', 'data-account-id': account.id },
    h(
      'section',
      { class: 'card' },
      h('h2', { class: 'card-title', testid: 'checkin-account' }, account.name),
      account.address ? h('p', { class: 'muted' }, account.address) : null,
      state,
      h('dl', { class: 'fields' }, h('dt', null, t('checkin.accuracy')), accuracy, h('dt', null, t('checkin.distance')), distance),
      hint,
      retry,
    ),
    offline,
    message,
    submit,
    h('p', { class: 'muted small' }, t('checkin.explain')),
  );

  return {
    el,
    title: t('checkin.title'),
    back,
    destroy() {
      alive = false;
      window.removeEventListener('online', onNet);
      window.removeEventListener('offline', onNet);
    },
  };
};
