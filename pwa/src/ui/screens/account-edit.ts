import { STATUSES, type AccountStatus } from '../../api/types';
import { t } from '../../i18n';
import { diff, validateAccount } from '../../lib/validate';
import type { AccountChanges } from '../../sync/mutations';
import { h, select } from '../dom';
import { field, textArea, textInput } from '../form';
import { href } from '../router';
import type { ScreenFactory } from '../shell';

export const accountEditScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'account-edit') throw new Error('wrong route');
  const account = await app.db.get('accounts', route.id);
  if (!account) {
    return { el: h('p', { class: 'empty', testid: 'acct-not-found' }, t('acct.notFound')), title: t('edit.title'), back: href.accounts() };
  }

  const name = field('acct-name', t('acct.name'), textInput({ testid: 'acct-name', value: account.name, maxlength: 200, required: true }));
  const industry = field('acct-industry', t('acct.industry'), textInput({ testid: 'acct-industry', value: account.industry, maxlength: 120 }));
  const address = field('acct-address', t('acct.address'), textInput({ testid: 'acct-address', value: account.address, maxlength: 300 }));
  const city = field('acct-city', t('acct.city'), textInput({ testid: 'acct-city', value: account.city, maxlength: 120 }));
  const status = field(
    'acct-status',
    t('acct.status'),
    select({ testid: 'acct-status-select' }, STATUSES.map((s) => [s, t(`acctStatus.${s}`)] as const), account.status),
  );
  const memberLines = field(
    'acct-member-lines',
    t('acct.memberLines'),
    textInput({ testid: 'acct-member-lines', value: String(account.memberLines), inputmode: 'numeric', pattern: '[0-9]*' }),
  );
  const notes = field('acct-notes', t('acct.notes'), textArea({ testid: 'acct-notes', value: account.notes, rows: 5, maxlength: 10_000 }));
  const fields = { name, industry, address, city, memberLines, notes };

  const message = h('p', { class: 'form-message', testid: 'acct-form-message', role: 'status', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'acct-save' }, t('form.save'));

  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'acct-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.hidden = true;
        const input = {
          name: name.input.value.trim(),
          industry: industry.input.value.trim(),
          address: address.input.value.trim(),
          city: city.input.value.trim(),
          memberLines: memberLines.input.value.trim(),
          notes: notes.input.value,
        };
        const errors = validateAccount(input);
        for (const [key, f] of Object.entries(fields)) f.setError(errors[key]);
        const firstBad = Object.keys(errors)[0] as keyof typeof fields | undefined;
        if (firstBad) {
          fields[firstBad].input.focus();
          return;
        }
        // Only the fields the user changed go to the server (they merge field by field).
        const current = (await app.db.get('accounts', account.id)) ?? account;
        const changes: AccountChanges = diff(current, {
          name: input.name,
          industry: input.industry,
          address: input.address,
          city: input.city,
          status: status.input.value as AccountStatus,
          memberLines: Number(input.memberLines),
          notes: input.notes,
        });
        if (Object.keys(changes).length === 0) {
          message.textContent = t('form.noChanges');
          message.hidden = false;
          return;
        }
        save.disabled = true;
        try {
          await app.save({ name: 'account.update', args: { id: account.id, baseVersion: current._base?.version ?? current.version, changes } });
          app.toast(t('form.saved'));
          location.hash = href.account(account.id);
        } catch (error) {
          message.textContent = t('form.failed', { message: String(error) });
          message.hidden = false;
          save.disabled = false;
        }
      },
    },
    name.row,
    industry.row,
    address.row,
    city.row,
    status.row,
    memberLines.row,
    notes.row,
    message,
    save,
  );

  return { el: h('div', { class: 'account-edit', testid: 'acct-edit-screen' }, form), title: t('edit.title'), back: href.account(account.id) };
};
