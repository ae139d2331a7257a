// Plan a visit: an account from the device's accounts (searched as you type), a date and a
// purpose. Saved on the device first (plan.create), sent at the next sync.
import { filterAccounts, loadAccountList, todayIso } from '../../db/local';
import { t } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { h } from '../dom';
import { field, textInput } from '../form';
import { href } from '../router';
import type { ScreenFactory } from '../shell';

const MAX_OPTIONS = 50;

export const planFormScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'plan-new') throw new Error('wrong route');
  const all = await loadAccountList(app.db);
  const preset = route.accountId ? all.find((a) => a.id === route.accountId) : undefined;
  const back = preset ? href.account(preset.id) : href.today();

  const search = textInput({ testid: 'plan-account-search', type: 'search', placeholder: t('accounts.search'), autocomplete: 'off' });
  const picker = h('select', { testid: 'plan-account', size: 5, class: 'plan-picker' });
  const fill = () => {
    const shown = filterAccounts(all, { q: search.value, tier: '', status: '' }).slice(0, MAX_OPTIONS);
    const current = picker.value || preset?.id || '';
    picker.replaceChildren(
      ...shown.map((a) => h('option', { value: a.id, selected: a.id === current }, `${a.name} · ${a.code}${a.city ? ` · ${a.city}` : ''}`)),
    );
    if (!picker.value && shown.length === 1) picker.value = shown[0]!.id;
  };
  search.addEventListener('input', fill);
  if (preset) search.value = preset.code;
  fill();

  const account = field('plan-account', t('plan.account'), picker);
  const date = field('plan-date', t('plan.date'), h('input', { type: 'date', testid: 'plan-date', value: todayIso(), required: true }));
  const purpose = field('plan-purpose', t('plan.purpose'), textInput({ testid: 'plan-purpose', maxlength: 200 }));
  const message = h('p', { class: 'form-message', testid: 'plan-form-message', role: 'status', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'plan-save' }, t('plan.save'));

  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'plan-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        account.setError(picker.value ? undefined : t('form.required', { field: t('plan.account') }));
        date.setError(date.input.value ? undefined : t('form.required', { field: t('plan.date') }));
        if (!picker.value || !date.input.value) return;
        save.disabled = true;
        try {
          await app.save({
            name: 'plan.create',
            args: { id: uuid(), accountId: picker.value, date: date.input.value, purpose: purpose.input.value.trim() },
          });
          app.toast(t('form.saved'));
          location.hash = date.input.value === todayIso() ? href.today() : href.today(date.input.value);
        } catch (error) {
          message.textContent = t('form.failed', { message: String(error) });
          message.hidden = false;
          save.disabled = false;
        }
      },
    },
    h('label', { for: 'plan-account-search' }, t('plan.find')),
    search,
    account.row,
    date.row,
    purpose.row,
    message,
    save,
  );
  search.id = 'plan-account-search';

  return { el: h('div', { testid: 'plan-screen' }, form), title: t('plan.title'), back };
};
