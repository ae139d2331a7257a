// The customer 360, read from the device: profile, group, contacts, holdings (contracts ending
// soon stand out), the revenue trend, a note box and the timeline.
import type { Overview } from '../../api/types';
import type { AccountExtras } from '../../db/db';
import { buildTimeline, endingSoon, endsInDays, loadAccount360, type Account360, type LocalTimelineItem } from '../../db/local';
import { formatDate, formatDateTime, formatMoney, formatNumber, hasKey, t } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { revenueChart } from '../chart';
import { clear, h, type Child } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import type { LocalVisit } from '../../db/db';
import { fetchAccountVisits, loadAccountVisits } from '../../visits/store';
import { visitRow } from './visit-bits';
import { salesLinks } from '../../sales/account-links';
import { workHref } from '../../work/lazy';

const NOTE_MAX = 10_000;

function section(testid: string, title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card', testid }, h('h2', { class: 'card-title' }, title), ...children);
}

function field(label: string, value: Child, testid?: string): Child {
  return [h('dt', null, label), h('dd', { testid }, value === '' ? '—' : value)];
}

function pendingBadge(testid: string): HTMLElement {
  return h('span', { class: 'badge badge-pending', testid }, t('acct.pending'));
}

function profile(d: Account360, canEdit: boolean): HTMLElement {
  const a = d.account;
  return section(
    'acct-profile',
    t('acct.profile'),
    h(
      'div',
      { class: 'profile-head' },
      h('span', { class: `tier tier-${a.tier ?? 'none'}` }, a.tier ?? '–'),
      h('div', { class: 'profile-name' }, h('strong', { testid: 'acct-title' }, a.name), h('span', { class: 'muted' }, a.code)),
      h('span', { class: `badge status-${a.status}`, testid: 'acct-status' }, t(`acctStatus.${a.status}`)),
    ),
    a._pending ? pendingBadge('acct-pending') : null,
    h(
      'dl',
      { class: 'fields' },
      field(t('acct.industry'), a.industry, 'acct-industry-value'),
      field(t('acct.city'), a.city, 'acct-city-value'),
      field(t('acct.address'), a.address, 'acct-address-value'),
      field(t('acct.owner'), a.ownerName),
      field(t('acct.memberLines'), formatNumber(a.memberLines), 'acct-member-lines-value'),
      field(t('acct.revenue12m'), formatMoney(a.revenue12MCents)),
      field(t('acct.notes'), a.notes, 'acct-notes-value'),
    ),
    canEdit ? h('a', { class: 'btn', href: href.accountEdit(a.id), testid: 'acct-edit-link' }, t('acct.edit')) : null,
  );
}

function group(d: Account360): HTMLElement {
  const g = d.group;
  const parent = g.parent
    ? h(
        'p',
        { testid: 'acct-parent' },
        g.parent.local
          ? h('a', { class: 'row-link', href: href.account(g.parent.id) }, t('acct.parent', { name: g.parent.name }))
          : t('acct.parent', { name: g.parent.name }),
      )
    : g.parentMissing
      ? h('p', { class: 'muted', testid: 'acct-parent' }, t('acct.parentElsewhere'))
      : null;
  const members = g.members.length
    ? [
        h('p', { class: 'muted' }, t('acct.members', { n: g.memberCount })),
        h(
          'ul',
          { class: 'plain-list' },
          g.members.map((m) =>
            h(
              'li',
              { testid: 'acct-member' },
              m.local
                ? h('a', { class: 'row-link', href: href.account(m.id) }, `${m.name} · ${m.code}`)
                : h('span', { class: 'row-link' }, `${m.name} · ${m.code}`),
            ),
          ),
        ),
      ]
    : null;
  return section('acct-group', t('acct.group'), parent, members, !parent && !members ? h('p', { class: 'muted' }, t('acct.noGroup')) : null);
}

function contacts(d: Account360, canEdit: boolean): HTMLElement {
  const items = d.contacts.map((c) =>
    h(
      'li',
      { class: 'contact', testid: 'contact-item', 'data-id': c.id },
      h(
        'div',
        { class: 'contact-head' },
        canEdit
          ? h('a', { class: 'contact-name', href: href.contactEdit(d.account.id, c.id), testid: 'contact-edit-link' }, c.name)
          : h('span', { class: 'contact-name' }, c.name),
        h('span', { class: 'badge' }, t(`role.${c.decisionRole}`)),
        c._pending ? pendingBadge('contact-pending') : null,
      ),
      c.title ? h('div', { class: 'muted' }, c.title) : null,
      h(
        'div',
        { class: 'contact-links' },
        c.phones.map((p) => h('a', { class: 'chip', href: `tel:${p.replace(/[^0-9+]/g, '')}`, 'aria-label': t('acct.call', { phone: p }) }, p)),
        c.email ? h('a', { class: 'chip', href: `mailto:${c.email}` }, c.email) : null,
      ),
      c.notes ? h('p', { class: 'contact-notes' }, c.notes) : null,
    ),
  );
  return section(
    'acct-contacts',
    t('acct.contacts'),
    items.length ? h('ul', { class: 'plain-list' }, items) : h('p', { class: 'muted' }, t('acct.noContacts')),
    canEdit ? h('a', { class: 'btn', href: href.contactNew(d.account.id), testid: 'contact-add-link' }, t('acct.addContact')) : null,
  );
}

function holdings(d: Account360): HTMLElement {
  const today = new Date();
  const soon = d.holdings.filter((x) => endingSoon(x, today)).length;
  const items = d.holdings.map((x) => {
    const days = endsInDays(x.contractEnd, today);
    const isSoon = endingSoon(x, today);
    const when =
      days === null
        ? t('acct.noContract')
        : days < 0
          ? t('acct.ended', { date: formatDate(x.contractEnd!) })
          : isSoon
            ? t('acct.endsIn', { n: days })
            : t('acct.contractEnd', { date: formatDate(x.contractEnd!) });
    return h(
      'li',
      { class: isSoon ? 'holding ending-soon' : 'holding', testid: 'holding-item', 'data-ending-soon': String(isSoon) },
      h('div', { class: 'holding-product' }, x.product),
      h('div', { class: 'muted' }, t('acct.quantityFee', { n: x.quantity, fee: formatMoney(x.monthlyFeeCents) })),
      h('div', { class: isSoon ? 'holding-end warn' : 'holding-end' }, when),
    );
  });
  return section(
    'acct-holdings',
    t('acct.holdings'),
    soon ? h('p', { class: 'warn', testid: 'holdings-ending-soon' }, t('acct.endingSoon', { n: soon })) : null,
    items.length ? h('ul', { class: 'plain-list' }, items) : h('p', { class: 'muted' }, t('acct.noHoldings')),
  );
}

function revenue(d: Account360): HTMLElement {
  const any = d.revenue.some((m) => m.cents > 0);
  return section('acct-revenue', t('acct.revenue'), any ? revenueChart(d.revenue) : h('p', { class: 'muted' }, t('acct.noRevenue')));
}

function visits(accountId: string, rows: readonly LocalVisit[], canCheckIn: boolean): HTMLElement {
  return section(
    'acct-visits',
    t('acct.visits'),
    rows.length ? h('ul', { class: 'plain-list' }, rows.map((v) => visitRow(v, 'acct-visit-item', false))) : h('p', { class: 'muted' }, t('acct.noVisits')),
    canCheckIn
      ? h(
          'div',
          { class: 'row' },
          h('a', { class: 'btn btn-primary', href: href.checkin(accountId), testid: 'acct-checkin-link' }, t('today.checkin')),
          h('a', { class: 'btn', href: href.planNew(accountId), testid: 'acct-plan-link' }, t('today.plan')),
          h('a', { class: 'btn', href: workHref.taskNew(accountId), testid: 'acct-task-link' }, t('work.addTask')),
        )
      : null,
  );
}

function timelineLabel(item: LocalTimelineItem): string {
  const key = item.kind === 'note' ? 'tl.note' : `tl.${item.kind}`;
  // Opportunities, quotes, cases and projects (server kinds): the kind in words, then the server's title.
  if (hasKey(key)) return t(key, item.params ?? { title: item.title });
  return item.title || item.kind;
}

type Told = { label: string; detail: string; actor: string };

/** Money to the cent in the reader's format ("CN¥880.00", "¥880.00"). */
function cents(n: number): string {
  return new Intl.NumberFormat(document.documentElement.lang || 'en', { style: 'currency', currency: 'CNY', minimumFractionDigits: 2 }).format(n / 100);
}

/** A quote's or opportunity's row from the parts the server sends as data, in the reader's words. */
function told(item: LocalTimelineItem, data: Record<string, unknown> | undefined): Told | null {
  if (!data) return null;
  const amount = typeof data.amountCents === 'number' ? cents(data.amountCents) : '';
  const state = typeof data.state === 'string' ? data.state : '';
  if (item.kind === 'quote' && typeof data.label === 'string') {
    const name = typeof data.name === 'string' && data.name ? data.name : '';
    const stateKey = `tl.quoteState.${state}`;
    const decided = ['approved', 'rejected', 'returned'].includes(state);
    return {
      label: name ? t('tl.quoteNamed', { label: data.label, name }) : t('tl.quote', { title: data.label }),
      detail: [hasKey(stateKey) ? t(stateKey) : state, amount].filter(Boolean).join(' · '),
      actor: item.actor ? (decided ? t('tl.decidedBy', { name: item.actor }) : t('tl.by', { name: item.actor })) : '',
    };
  }
  if (item.kind === 'opportunity' && typeof data.name === 'string') {
    return { label: t('tl.opportunity', { title: data.name }), detail: amount, actor: item.actor ? t('tl.by', { name: item.actor }) : '' };
  }
  return null;
}

function timeline(d: Account360): HTMLElement {
  const items = buildTimeline(d.notes, d.holdings, d.extras);
  const data = new Map((d.extras?.timeline ?? []).map((e) => [`${e.kind}|${e.at}`, e.data]));
  return section(
    'acct-timeline',
    t('acct.timeline'),
    items.length
      ? h(
          'ol',
          { class: 'timeline' },
          items.map((item) => {
            const words = told(item, data.get(`${item.kind}|${item.at}`) as Record<string, unknown> | undefined);
            const detail = words ? words.detail : item.detail;
            const actor = words ? words.actor : item.actor ? t('tl.by', { name: item.actor }) : '';
            return h(
              'li',
              { class: item.pending ? 'tl-item tl-pending' : 'tl-item', testid: 'timeline-item', 'data-kind': item.kind },
              h('div', { class: 'tl-head' }, h('strong', null, words ? words.label : timelineLabel(item)), h('time', { datetime: item.at }, item.kind.startsWith('contract.') ? formatDate(item.at.slice(0, 10)) : formatDateTime(item.at))),
              detail ? h('p', { class: item.kind === 'note' ? 'tl-note' : 'muted', testid: 'timeline-detail' }, detail) : null,
              actor ? h('div', { class: 'muted', testid: 'timeline-actor' }, actor) : null,
              item.pending ? pendingBadge('timeline-pending') : null,
            );
          }),
        )
      : h('p', { class: 'muted' }, t('acct.noTimeline')),
  );
}

export const accountScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'account') throw new Error('wrong route');
  const id = route.id;
  let data = await loadAccount360(app.db, id);
  if (!data) {
    return {
      el: h('p', { class: 'empty', testid: 'acct-not-found' }, t('acct.notFound')),
      title: t('nav.accounts'),
      back: href.accounts(),
      async refresh() {
        if (await app.db.get('accounts', id)) window.dispatchEvent(new HashChangeEvent('hashchange'));
      },
    };
  }

  const canEdit = app.can('accounts.update');
  const canCheckIn = app.can('visits.checkin');
  let visitRows = await loadAccountVisits(app.db, id);
  const top = h('div', { class: 'stack' });
  const bottom = h('div', { class: 'stack' });

  const noteInput = h('textarea', {
    class: 'note-input',
    testid: 'note-input',
    rows: 3,
    maxlength: NOTE_MAX,
    placeholder: t('acct.notePlaceholder'),
    'aria-label': t('acct.noteTitle'),
  });
  const noteError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const noteSave = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'note-save' }, t('acct.noteSave'));
  const noteForm = h(
    'form',
    {
      class: 'card note-box',
      testid: 'note-box',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const text = noteInput.value.trim();
        noteError.hidden = true;
        if (!text) {
          noteError.textContent = t('form.required', { field: t('acct.noteTitle') });
          noteError.hidden = false;
          return;
        }
        noteSave.disabled = true;
        try {
          await app.save({ name: 'account.note', args: { id: uuid(), accountId: id, text } });
          noteInput.value = '';
          app.toast(t('acct.noteSaved'));
        } catch (error) {
          noteError.textContent = t('form.failed', { message: String(error) });
          noteError.hidden = false;
        } finally {
          noteSave.disabled = false;
        }
      },
    },
    h('h2', { class: 'card-title' }, t('acct.noteTitle')),
    noteInput,
    noteError,
    noteSave,
  );

  const paint = () => {
    if (!data) return;
    clear(top, profile(data, canEdit), group(data), contacts(data, canEdit), holdings(data), revenue(data));
    clear(bottom, visits(id, visitRows, canCheckIn), salesLinks(id), timeline(data));
  };
  paint();

  const el = h('div', { class: 'account', testid: 'account-screen', 'data-id': id }, top, canEdit ? noteForm : null, bottom);

  let alive = true;
  const reload = async () => {
    const next = await loadAccount360(app.db, id);
    if (!alive) return;
    if (!next) {
      clear(top, h('p', { class: 'empty', testid: 'acct-not-found' }, t('acct.notFound')));
      clear(bottom);
      noteForm.hidden = true;
      data = null;
      return;
    }
    data = next;
    visitRows = await loadAccountVisits(app.db, id);
    if (!alive) return;
    paint();
  };

  // What only the server knows (its change log, group rows out of scope) comes from the overview
  // when there is a network; the device keeps the last copy for offline use.
  if (navigator.onLine) {
    void fetchAccountVisits(app, id).then(async (ok) => {
      if (ok && alive) await reload();
    });
    void app.api.get<Overview>(`/api/accounts/${encodeURIComponent(id)}/overview`).then(async (result) => {
      if (!result.ok) return;
      const extras: AccountExtras = {
        accountId: id,
        fetchedAt: new Date().toISOString(),
        timeline: result.data.timeline,
        parent: result.data.parent,
        members: result.data.members,
        memberCount: result.data.memberCount,
      };
      await app.db.put('extras', extras);
      if (alive) await reload();
    });
  }

  return {
    el,
    title: data.account.name,
    back: href.accounts(),
    refresh: reload,
    destroy() {
      alive = false;
    },
  };
};
