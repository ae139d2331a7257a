// Changes the server refused, with its reason. The device already shows the server's data again.
import type { App } from '../../app';
import type { RejectedMutation } from '../../db/db';
import { formatDateTime, hasKey, t } from '../../i18n';
import { accountOf } from '../../sync/mutations';
import { clear, h } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';

/** The account a rejected change concerns (a visit's or plan's change names it through the row). */
async function accountIdOf(app: App, r: RejectedMutation): Promise<string> {
  const m = r.mutation;
  const id = accountOf(m);
  if (id) return id;
  if (m.name === 'visit.checkout' || m.name === 'visit.log') return (await app.db.get('visits', m.args.visitId))?.accountId ?? '';
  if (m.name === 'plan.update') return (await app.db.get('plans', m.args.id))?.accountId ?? '';
  return '';
}

async function describe(app: App, r: RejectedMutation): Promise<string> {
  const m = r.mutation;
  const id = await accountIdOf(app, r);
  const account = (typeof id === 'string' && id ? (await app.db.get('accounts', id))?.name : undefined) ?? t('mutation.unknownAccount');
  if (m.name === 'contact.create') return t('mutation.contact.create', { name: String(m.args.name), account });
  const key = `mutation.${m.name}`;
  // A mutation this version does not know (queued by another version of the app) shows its name.
  return hasKey(key) ? t(key, { account }) : `${m.name} · ${account}`;
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export const rejectedScreen: ScreenFactory = async (app) => {
  const list = h('ul', { class: 'plain-list rejected-list', testid: 'rejected-list' });
  const dismissAll = h(
    'button',
    {
      type: 'button',
      class: 'btn',
      testid: 'rejected-dismiss-all',
      onclick: async () => {
        await app.db.clear('rejected');
        await app.engine.refreshCounts();
        await paint();
      },
    },
    t('rejected.dismissAll'),
  );

  const paint = async () => {
    const rows = (await app.db.getAll('rejected')).reverse();
    const items = await Promise.all(
      rows.map(async (r) => {
        const codeKey = `rejectCode.${r.code}`;
        const accountId = await accountIdOf(app, r);
        return h(
          'li',
          { class: 'card rejected-item', testid: 'rejected-item', 'data-code': r.code, 'data-mutation': r.mutation.name },
          h('strong', { class: 'rejected-what' }, await describe(app, r)),
          h('p', { class: 'rejected-reason', testid: 'rejected-reason' }, `${hasKey(codeKey) ? t(codeKey) : t('rejectCode.other')}: ${r.message}`),
          r.conflicts
            ? h(
                'ul',
                { class: 'conflicts' },
                Object.entries(r.conflicts).map(([f, c]) => h('li', null, t('rejected.conflict', { field: f, yours: show(c.yours), server: show(c.server) }))),
              )
            : null,
          h('p', { class: 'muted' }, t('rejected.at', { made: formatDateTime(r.mutation.capturedAt), rejected: formatDateTime(r.rejectedAt) })),
          h(
            'div',
            { class: 'row' },
            typeof accountId === 'string' && accountId
              ? h('a', { class: 'btn btn-small', href: href.account(accountId) }, t('rejected.open'))
              : null,
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-small',
                testid: 'rejected-dismiss',
                onclick: async () => {
                  if (r.key !== undefined) await app.db.delete('rejected', r.key);
                  await app.engine.refreshCounts();
                  await paint();
                },
              },
              t('rejected.dismiss'),
            ),
          ),
        );
      }),
    );
    clear(list, items.length ? items : h('li', { class: 'empty', testid: 'rejected-empty' }, t('rejected.empty')));
    dismissAll.hidden = items.length === 0;
  };
  await paint();

  return {
    el: h('div', { class: 'stack', testid: 'rejected-screen' }, h('p', { class: 'muted' }, t('rejected.intro')), list, dismissAll),
    title: t('rejected.title'),
    back: href.accounts(),
    refresh: paint,
  };
};
