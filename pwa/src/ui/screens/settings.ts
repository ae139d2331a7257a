import { isLocale, LOCALES, getLocale, t } from '../../i18n';
import { h, select } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';

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

  const warning = h('div', { class: 'confirm', testid: 'signout-warning', hidden: true });
  const signOut = async () => {
    await app.signOut();
  };
  const signOutButton = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-danger-outline btn-block',
      testid: 'signout',
      onclick: async () => {
        const waiting = await app.db.count('outbox');
        if (waiting === 0) {
          await signOut();
          return;
        }
        warning.replaceChildren(
          h('p', null, t('settings.signOutWarn', { n: waiting })),
          h(
            'div',
            { class: 'row' },
            h('button', { type: 'button', class: 'btn', testid: 'signout-sync', onclick: () => app.scheduler?.now() }, t('settings.syncFirst')),
            h('button', { type: 'button', class: 'btn btn-danger', testid: 'signout-confirm', onclick: signOut }, t('settings.signOutAnyway')),
          ),
        );
        warning.hidden = false;
      },
    },
    t('settings.signOut'),
  );

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
