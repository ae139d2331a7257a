// Always on screen: online or offline, changes waiting, the last successful sync, rejected changes,
// and what to do when sync cannot go on (sign in again, wait, sign out).
import type { App } from '../app';
import { formatAgo, formatTime, t } from '../i18n';
import type { SyncStatus } from '../sync/engine';
import { clear, h } from './dom';
import { href } from './router';

export function statusBar(app: App): HTMLElement {
  const net = h('span', { class: 'net', testid: 'net-status' });
  const pending = h('span', { class: 'pending', testid: 'pending-count' });
  const last = h('span', { class: 'last-sync', testid: 'last-sync' });
  const rejected = h('a', { class: 'rejected-link', testid: 'rejected-link', href: href.rejected() });
  const syncButton = h('button', {
    type: 'button',
    class: 'sync-now',
    testid: 'sync-now',
    onclick: () => app.scheduler?.now(),
  });
  const message = h('div', { class: 'sync-message', testid: 'sync-message', role: 'status', hidden: true });
  const bar = h(
    'div',
    { class: 'statusbar', testid: 'status-bar', role: 'region' },
    h('div', { class: 'statusbar-row' }, net, pending, last, rejected, syncButton),
    message,
  );

  let status: SyncStatus = app.engine.status;
  const paint = () => {
    const online = status.online && status.lastOutcome !== 'offline';
    bar.dataset.online = String(online);
    bar.dataset.syncing = String(status.running);
    net.dataset.state = online ? 'online' : 'offline';
    net.textContent = status.running ? t('status.syncing') : online ? t('status.online') : t('status.offline');
    pending.dataset.count = String(status.pending);
    pending.textContent = t('status.pending', { n: status.pending });
    pending.classList.toggle('has-pending', status.pending > 0);
    last.dataset.at = status.lastSyncAt ?? '';
    // Short on screen ("✓ 5 min. ago") so the bar fits 360px; the full sentence for screen readers.
    const ago = status.lastSyncAt ? formatAgo(status.lastSyncAt) : '';
    last.textContent = status.lastSyncAt ? t('status.lastSyncShort', { time: ago }) : t('status.never');
    last.setAttribute('aria-label', status.lastSyncAt ? t('status.lastSync', { time: ago }) : t('status.never'));
    last.title = last.getAttribute('aria-label') ?? '';
    rejected.dataset.count = String(status.rejected);
    rejected.textContent = t('status.rejected', { n: status.rejected });
    rejected.classList.toggle('has-rejected', status.rejected > 0);
    syncButton.textContent = t('status.syncNow');
    syncButton.disabled = status.running || !app.me;

    let text: (Node | string)[] = [];
    let kind = '';
    if (status.lastOutcome === 'auth') {
      kind = 'auth';
      text = [t('status.auth'), ' ', h('a', { href: href.login(), testid: 'sign-in-again' }, t('status.signIn'))];
    } else if (status.lastOutcome === 'client-conflict') {
      kind = 'conflict';
      text = [t('status.conflict'), ' ', h('a', { href: href.settings() }, t('nav.settings'))];
    } else if (status.lastOutcome === 'backoff' && status.retryAt) {
      kind = 'backoff';
      text = [t('status.retryAt', { time: formatTime(status.retryAt) })];
      if (status.message) text.push(' ', t('status.error', { message: status.message }));
    }
    message.hidden = text.length === 0;
    message.dataset.kind = kind;
    clear(message, text);
  };

  app.engine.events.on('status', (next) => {
    status = next;
    paint();
  });
  app.events.on('locale', paint);
  app.events.on('me', paint);
  setInterval(paint, 30_000);
  paint();
  return bar;
}
