// #/delegations: out of office. A manager (anyone who decides steps) names a deputy for a period;
// the deputy sees and decides their steps meanwhile. Lists the caller's delegations and those naming them.
import type { App } from '../../app';
import { formatDateTime } from '../../i18n';
import { clear, h, select } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { ax } from '../i18n';
import { dataTable, fetchAll, labelled, message, notAllowed, panel, problemText, type User } from './common';

interface Delegation {
  id: string;
  userId: string;
  userName: string;
  delegateId: string;
  delegateName: string;
  startsAt: string;
  endsAt: string;
}

/** A datetime-local value (the device's zone) as an ISO instant. */
function toIso(local: string): string | null {
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

function localValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export async function delegationsScreen(app: App): Promise<Screen> {
  if (!app.can('delegations.manage')) return notAllowed(ax('del.title'));
  const status = message('del-message');
  const listBox = h('div', { class: 'admin-col', testid: 'del-list' });
  const people = await fetchAll<User>(app, '/api/users?active=true', 2000);
  const me = app.me?.user.id;
  const deputies = people.ok ? people.items.filter((u) => u.id !== me && u.role !== 'rep') : [];
  const deputy = select({ testid: 'del-deputy' }, [['', ax('del.chooseDeputy')], ...deputies.map((u) => [u.id, `${u.displayName} · ${u.orgUnitName}`] as const)], '');
  const now = new Date();
  const starts = h('input', { type: 'datetime-local', testid: 'del-starts', value: localValue(now) });
  const ends = h('input', { type: 'datetime-local', testid: 'del-ends', value: localValue(new Date(now.getTime() + 7 * 86_400_000)) });

  async function load(): Promise<void> {
    const r = await fetchAll<Delegation>(app, '/api/delegations');
    if (!r.ok) return status.set(r.message);
    clear(
      listBox,
      r.items.length
        ? dataTable(
            ax('del.title'),
            'del-table',
            [ax('del.who'), ax('del.deputy'), ax('del.from'), ax('del.until'), ''],
            r.items.map((d) =>
              h(
                'tr',
                { testid: 'del-row', 'data-id': d.id },
                h('td', null, d.userName),
                h('td', null, d.delegateName),
                h('td', null, formatDateTime(d.startsAt)),
                h('td', null, formatDateTime(d.endsAt)),
                h(
                  'td',
                  null,
                  d.userId === me
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'btn btn-small btn-danger-outline',
                          testid: 'del-remove',
                          onclick: async () => {
                            const x = await app.api.send('DELETE', `/api/delegations/${d.id}`);
                            if (!x.ok) return status.set(problemText(x));
                            await load();
                            status.set(ax('del.removed'), 'ok');
                          },
                        },
                        ax('del.remove'),
                      )
                    : null,
                ),
              ),
            ),
          )
        : h('p', { class: 'empty', testid: 'del-empty' }, ax('del.none')),
    );
  }

  const form = h(
    'form',
    {
      class: 'form',
      testid: 'del-form',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const from = toIso(starts.value);
        const until = toIso(ends.value);
        if (!deputy.value) return status.set(ax('del.deputyRequired'));
        if (!from || !until) return status.set(ax('del.badDates'));
        if (until <= from) return status.set(ax('del.endBeforeStart'));
        const r = await app.api.post('/api/delegations', { delegateId: deputy.value, startsAt: from, endsAt: until });
        if (!r.ok) return status.set(problemText(r));
        await load();
        status.set(ax('del.added'), 'ok');
      },
    },
    labelled('del-deputy', ax('del.deputy'), deputy, ax('del.deputyHint')),
    labelled('del-starts', ax('del.from'), starts),
    labelled('del-ends', ax('del.until'), ends),
    h('button', { type: 'submit', class: 'btn btn-primary', testid: 'del-save' }, ax('del.add')),
  );
  await load();
  if (!people.ok) status.set(people.message);
  return {
    el: h('div', { testid: 'del-screen' }, h('p', { class: 'muted' }, ax('del.intro')), status.el, h('div', { class: 'admin-two' }, listBox, h('div', { class: 'admin-col' }, panel(ax('del.new'), 'del-new', form)))),
    title: ax('del.title'),
    back: '#/admin',
  };
}
