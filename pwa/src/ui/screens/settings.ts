import { isLocale, LOCALES, getLocale, t } from '../../i18n';
import { clear, h, select } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import { mustAsk, PendingChangesError, signOutRisk } from '../../sync/signout';

export const settingsScreen: ScreenFactory = async (app) => {
  const me = app.me;
  const language = select(
    {
      id: 'lang-switch',
      testid: 'lang-switch',
      onchange: (event: Event) => {
        const value = (event.target as HTMLSelectElement).value;
        if (isLocale(value)) void app.setLocale(value);
      },
    },
    LOCALES.map((l) => [l, t(`lang.${l}`)] as const),
    getLocale(),
  );

  const storage = h('p', { class: 'muted', testid: 'storage-summary' });
  void Promise.all([app.db.count('accounts'), app.db.count('contacts')]).then(([accounts, contacts]) => {
    storage.textContent = t('settings.storage', { accounts, contacts });
  });

  // Sign out asks first when it would cost something: changes not yet sent (lost with the wipe),
  // or no network (signing back in needs one). It offers to stay, or to sync now and look again.
  const warning = h('div', { class: 'confirm', testid: 'signout-warning', role: 'alertdialog', hidden: true });
  const signOut = async (discard: number) => {
    try {
      await app.signOut(discard);
    } catch (error) {
      if (error instanceof PendingChangesError) await ask();
      else throw error;
    }
  };
  const ask = async () => {
    const risk = await signOutRisk(app.db, navigator.onLine);
    if (!mustAsk(risk)) {
      warning.hidden = true;
      await signOut(0);
      return;
    }
    const status = h('p', { class: 'muted small', testid: 'signout-status', role: 'status' });
    const syncButton = h(
      'button',
      {
        type: 'button',
        class: 'btn',
        testid: 'signout-sync',
        hidden: !navigator.onLine || risk.pending === 0,
        onclick: async () => {
          syncButton.disabled = true;
          status.textContent = t('signout.syncing');
          await app.engine.run();
          const after = await signOutRisk(app.db, navigator.onLine);
          syncButton.disabled = false;
          if (after.pending === 0) {
            status.textContent = t('signout.allSent');
            await ask();
          } else status.textContent = t('signout.stillWaiting', { n: after.pending });
        },
      },
      t('settings.syncFirst'),
    );
    clear(
      warning,
      h('p', { class: 'confirm-title' }, h('strong', null, t('signout.title'))),
      risk.pending > 0 ? h('p', { testid: 'signout-pending', 'data-count': risk.pending }, t('signout.pending', { n: risk.pending })) : null,
      risk.offline ? h('p', { testid: 'signout-offline' }, t('signout.offline')) : null,
      status,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn btn-primary', testid: 'signout-wait', onclick: () => (warning.hidden = true) }, t('signout.wait')),
        syncButton,
        h(
          'button',
          { type: 'button', class: 'btn btn-danger', testid: 'signout-confirm', onclick: () => void signOut(risk.pending) },
          risk.pending > 0 ? t('signout.discard', { n: risk.pending }) : t('signout.anyway'),
        ),
      ),
    );
    warning.hidden = false;
  };
  const signOutButton = h('button', { type: 'button', class: 'btn btn-danger-outline btn-block', testid: 'signout', onclick: () => void ask() }, t('settings.signOut'));

  const updateStatus = h('p', { class: 'muted', testid: 'update-status', role: 'status' });
  const checkButton = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      testid: 'check-update',
      onclick: async () => {
        updateStatus.textContent = t('update.checking');
        checkButton.disabled = true;
        const result = (await app.updates?.check()) ?? 'unavailable';
        checkButton.disabled = false;
        updateStatus.textContent =
          result === 'ready' ? t('update.ready') : result === 'latest' ? t('update.latest') : result === 'offline' ? t('update.offline') : t('update.unavailable');
      },
    },
    t('settings.checkUpdate'),
  );

  const el = h(
    'div',
    { class: 'stack', testid: 'settings-screen' },
    h('section', { class: 'card' }, h('h2', { class: 'card-title' }, h('label', { for: 'lang-switch' }, t('settings.language'))), language),
    me ? h('section', { class: 'card' }, h('a', { href: href.notifications(), testid: 'settings-notifications' }, t('push.settingsLink'))) : null,
    me
      ? h(
          'section',
          { class: 'card' },
          h('h2', { class: 'card-title' }, t('settings.account')),
          h('p', { testid: 'signed-in-as' }, t('settings.signedInAs', { name: me.user.displayName, username: me.user.username })),
          h('p', { class: 'muted' }, me.user.orgUnitName),
          signOutButton,
          warning,
        )
      : null,
    h(
      'section',
      { class: 'card' },
      h('h2', { class: 'card-title' }, t('settings.sync')),
      storage,
      h('p', { class: 'muted small', testid: 'client-id' }, t('settings.device', { id: app.clientId })),
      h('button', { type: 'button', class: 'btn', testid: 'settings-sync-now', onclick: () => app.scheduler?.now() }, t('status.syncNow')),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', { class: 'card-title' }, t('settings.app')),
      h('p', { testid: 'app-version', 'data-version': __APP_VERSION__ }, t('settings.version', { v: __APP_VERSION__ })),
      checkButton,
      updateStatus,
    ),
  );
  return { el, title: t('settings.title') };
};
