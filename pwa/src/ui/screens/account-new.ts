// A new account made on the phone, with or without a network (#/prospects/new): a prospect, or a
// new member company under a group. Saved to the outbox first (account.create). The phone's fix
// can go along as a proposed pin, which a leader confirms (the account has no pin until then).
// The device warns of look-alikes it holds; the server checks again on arrival, and when it answers
// "possible duplicate" the account's page here (#/prospects/<id>) lists the candidates: keep mine,
// or open the existing one.
import type { App } from '../../app';
import type { AccountListItem } from '../../db/local';
import { loadAccountList } from '../../db/local';
import type { RejectedMutation } from '../../db/db';
import { getLocale, t, type MsgKey } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { formatDistance, fixQuality } from '../../visits/geo';
import { freshFix, type Fix } from '../../visits/position';
import { accountPicker, labelled } from '../../sales/screens/bits';
import { clear, h } from '../dom';
import { href } from '../router';
import type { Screen } from '../shell';

export const prospectHref = {
  create: (parentId?: string) => (parentId ? `#/prospects/new/${encodeURIComponent(parentId)}` : '#/prospects/new'),
  show: (id: string) => `#/prospects/${encodeURIComponent(id)}`,
};

const CODE = /^[A-Za-z0-9_.\-/]*$/;

export interface NewAccountInput {
  kind: 'prospect' | 'member';
  parentId: string;
  name: string;
  code: string;
  industry: string;
  city: string;
  address: string;
  notes: string;
}

/** The server's rules for a new account (accounts/schemas.py), checked before it is queued. */
export function validateNewAccount(input: NewAccountInput): Record<string, string> {
  const errors: Record<string, string> = {};
  const name = input.name.trim();
  if (!name) errors.name = t('newacct.nameRequired');
  else if (name.length > 200) errors.name = t('newacct.tooLong', { n: 200 });
  if (input.code.trim().length > 64) errors.code = t('newacct.tooLong', { n: 64 });
  else if (!CODE.test(input.code.trim())) errors.code = t('newacct.badCode');
  if (input.kind === 'member' && !input.parentId) errors.parent = t('newacct.parentRequired');
  for (const f of ['industry', 'city'] as const) if (input[f].trim().length > 120) errors[f] = t('newacct.tooLong', { n: 120 });
  if (input.address.trim().length > 300) errors.address = t('newacct.tooLong', { n: 300 });
  if (input.notes.length > 10_000) errors.notes = t('newacct.tooLong', { n: 10_000 });
  return errors;
}

/** A name for comparing (as the server's duplicates.normalise, roughly): lower case, no spaces or punctuation, no legal-form words. */
export function normaliseName(name: string): string {
  let text = name.normalize('NFKC').toLowerCase().replace(/[\s\p{P}\p{S}]+/gu, '');
  for (const suffix of ['有限责任公司', '股份有限公司', '有限公司', '集团', '公司', 'coltd', 'co', 'ltd', 'limited', 'inc', 'corp']) text = text.split(suffix).join('');
  return text;
}

/** Accounts on the device a new one may repeat: the same code, or the same name in the same city (or a name containing the other). */
export function lookAlikes(all: readonly Pick<AccountListItem, 'id' | 'name' | 'code' | 'city'>[], input: Pick<NewAccountInput, 'name' | 'code' | 'city'>): typeof all {
  const key = normaliseName(input.name);
  const code = input.code.trim().toLowerCase();
  const city = input.city.trim();
  return all.filter((a) => {
    if (code && a.code.toLowerCase() === code) return true;
    if (!key) return false;
    const other = normaliseName(a.name);
    if (!other) return false;
    const sameName = other === key || (key.length >= 2 && other.length >= 2 && (other.includes(key) || key.includes(other)));
    return sameName && (!city || !a.city || a.city === city);
  });
}

export async function accountNewScreen(app: App, parts: string[]): Promise<Screen> {
  const id = uuid();
  const all = await loadAccountList(app.db);
  const presetParent = parts[2];
  const kind = labelled(
    'newacct-kind',
    t('newacct.kind'),
    h(
      'select',
      null,
      h('option', { value: 'prospect', selected: !presetParent }, t('newacct.kindProspect')),
      h('option', { value: 'member', selected: !!presetParent }, t('newacct.kindMember')),
    ),
  );
  const parent = await accountPicker(app, 'newacct-parent', presetParent);
  const name = labelled('newacct-name', t('acct.name'), h('input', { type: 'text', maxlength: 200, autocomplete: 'off' }));
  const code = labelled('newacct-code', t('newacct.code'), h('input', { type: 'text', maxlength: 64, autocomplete: 'off' }), t('newacct.codeHint'));
  const industry = labelled('newacct-industry', t('acct.industry'), h('input', { type: 'text', maxlength: 120 }));
  const city = labelled('newacct-city', t('acct.city'), h('input', { type: 'text', maxlength: 120 }));
  const address = labelled('newacct-address', t('acct.address'), h('input', { type: 'text', maxlength: 300 }));
  const notes = labelled('newacct-notes', t('acct.notes'), h('textarea', { rows: 3 }));
  const similar = h('div', { class: 'notice', testid: 'newacct-similar', hidden: true });
  const message = h('p', { class: 'form-message', testid: 'newacct-message', role: 'status', hidden: true });

  // The phone's position, offered as the proposed pin (not the account's location until confirmed).
  let fix: Fix | null = null;
  const pinBox = h('input', { type: 'checkbox', testid: 'newacct-pin', checked: true });
  const pinText = h('span', { class: 'muted small', testid: 'newacct-fix', 'data-state': 'locating' }, t('fix.locating'));
  const locate = async () => {
    pinText.dataset.state = 'locating';
    pinText.textContent = t('fix.locating');
    const result = await freshFix();
    if (result.ok) {
      fix = result.fix;
      pinText.dataset.state = fixQuality(fix.accuracyM);
      pinText.textContent = t('newacct.fixAt', { m: formatDistance(fix.accuracyM, { m: t('unit.m'), km: t('unit.km') }, getLocale()) });
    } else {
      fix = null;
      pinText.dataset.state = result.error === 'denied' ? 'denied' : 'none';
      pinText.textContent = result.error === 'denied' ? t('fix.denied') : t('fix.none');
    }
  };
  void locate();

  const showKind = () => {
    parent.el.hidden = kind.input.value !== 'member';
  };
  kind.input.addEventListener('change', showKind);
  showKind();

  const input = (): NewAccountInput => ({
    kind: kind.input.value === 'member' ? 'member' : 'prospect',
    parentId: kind.input.value === 'member' ? parent.value() : '',
    name: name.input.value,
    code: code.input.value,
    industry: industry.input.value,
    city: city.input.value,
    address: address.input.value,
    notes: notes.input.value,
  });

  const paintSimilar = () => {
    const found = lookAlikes(all, input()).slice(0, 5);
    similar.hidden = !found.length;
    clear(
      similar,
      h('p', null, t('newacct.similarHere')),
      h('ul', { class: 'plain-list' }, found.map((a) => h('li', { testid: 'newacct-similar-item', 'data-id': a.id }, h('a', { href: href.account(a.id) }, `${a.name} · ${a.code}${a.city ? ` · ${a.city}` : ''}`)))),
    );
  };
  for (const f of [name, code, city]) f.input.addEventListener('input', paintSimilar);

  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'newacct-save' }, t('newacct.save'));
  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'newacct-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.hidden = true;
        const values = input();
        const errors = validateNewAccount(values);
        for (const [key, f] of Object.entries({ name, code, industry, city, address, notes })) f.setError(errors[key]);
        parent.setError(errors.parent);
        if (Object.keys(errors).length) return;
        save.disabled = true;
        try {
          const pin = pinBox.checked && fix ? { pinLatitude: fix.latitude, pinLongitude: fix.longitude, pinAccuracyM: Math.round(fix.accuracyM) } : {};
          await app.save({
            name: 'account.create',
            args: {
              id,
              code: values.code.trim(),
              name: values.name.trim(),
              status: 'prospect',
              parentId: values.parentId || null,
              industry: values.industry.trim(),
              address: values.address.trim(),
              city: values.city.trim(),
              notes: values.notes,
              ...pin,
            },
          });
          app.toast(navigator.onLine ? t('newacct.savedOnline') : t('newacct.savedOffline'));
          location.hash = prospectHref.show(id);
        } catch (error) {
          message.textContent = t('form.failed', { message: String(error) });
          message.hidden = false;
          save.disabled = false;
        }
      },
    },
    kind.row,
    parent.el,
    name.row,
    code.row,
    city.row,
    address.row,
    industry.row,
    notes.row,
    h('div', { class: 'field' }, h('label', { class: 'check' }, pinBox, t('newacct.usePin')), pinText, h('button', { type: 'button', class: 'btn btn-small', testid: 'newacct-relocate', onclick: () => void locate() }, t('newacct.relocate'))),
    similar,
    message,
    save,
  );
  return {
    el: h('div', { class: 'stack', testid: 'newacct-screen' }, form),
    title: t('newacct.title'),
    back: href.accounts(),
  };
}

/**
 * A new account as the server answered it: waiting to be sent, taken, or taken as a possible
 * duplicate of accounts it has (keep mine, or open the existing one). Refused: why.
 */
export async function prospectScreen(app: App, parts: string[]): Promise<Screen> {
  const id = parts[1] ?? '';
  const box = h('div', { class: 'stack', testid: 'prospect-screen', 'data-id': id });
  const paint = async () => {
    const [row, queued, records] = await Promise.all([
      app.db.get('accounts', id),
      app.db.getAll('outbox'),
      app.db.getAll('rejected'),
    ]);
    const waiting = queued.some((m) => m.name === 'account.create' && m.args.id === id);
    const record: RejectedMutation | undefined = records.find((r) => r.mutation.name === 'account.create' && r.mutation.args.id === id);
    const name = row?.name ?? (record?.mutation.name === 'account.create' ? record.mutation.args.name : '');
    clear(
      box,
      h('section', { class: 'card' }, h('h2', { class: 'card-title', testid: 'prospect-name' }, name || '—'), row ? h('a', { class: 'btn', href: href.account(id), testid: 'prospect-open' }, t('newacct.openMine')) : null),
      waiting
        ? h('p', { class: 'notice', testid: 'prospect-state', 'data-state': 'waiting' }, navigator.onLine ? t('newacct.sending') : t('newacct.waiting'))
        : record && record.code === 'possible_duplicate'
          ? duplicatesCard(app, record, paint)
          : record && !record.applied
            ? h('p', { class: 'notice', testid: 'prospect-state', 'data-state': 'rejected' }, `${t('newacct.refused')} ${record.message}`)
            : h('p', { class: 'muted', testid: 'prospect-state', 'data-state': 'taken' }, t('newacct.taken')),
      h('a', { class: 'btn btn-block', href: prospectHref.create(), testid: 'prospect-another' }, t('newacct.another')),
    );
  };
  await paint();
  return { el: box, title: t('newacct.title'), back: href.accounts(), refresh: paint };
}

function duplicatesCard(app: App, record: RejectedMutation, repaint: () => Promise<void>): HTMLElement {
  const dismiss = async () => {
    if (record.key !== undefined) await app.db.delete('rejected', record.key);
    await app.engine.refreshCounts();
    await repaint();
  };
  return h(
    'section',
    { class: 'card sales-conflict', testid: 'prospect-duplicates', 'data-state': 'possible_duplicate' },
    h('p', null, t('newacct.possibleDuplicate')),
    record.message ? h('p', { class: 'muted small' }, record.message) : null,
    h(
      'ul',
      { class: 'plain-list' },
      (record.candidates ?? []).map((c) =>
        h(
          'li',
          { class: 'row between', testid: 'duplicate-candidate', 'data-id': c.id },
          h('span', null, h('strong', null, c.name), ` · ${[c.code, c.city, c.ownerName].filter(Boolean).join(' · ')}`, h('span', { class: 'muted small' }, ` (${c.reasons.map((r) => t(`dupReason.${r}` as MsgKey)).join(', ')})`)),
          c.inScope ? h('a', { class: 'btn btn-small', href: href.account(c.id), testid: 'duplicate-open' }, t('newacct.openExisting')) : h('span', { class: 'muted small' }, t('newacct.notYours')),
        ),
      ),
    ),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn btn-primary', testid: 'duplicate-keep', onclick: () => void dismiss() }, t('newacct.keepMine'))),
  );
}
