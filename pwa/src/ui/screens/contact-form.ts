import { DECISION_ROLES, type DecisionRole } from '../../api/types';
import { loadContact } from '../../db/local';
import { t } from '../../i18n';
import { uuid } from '../../lib/uuid';
import { diff, parsePhones, validateContact } from '../../lib/validate';
import type { ContactChanges } from '../../sync/mutations';
import { h, select } from '../dom';
import { field, textArea, textInput } from '../form';
import { href } from '../router';
import type { ScreenFactory } from '../shell';

export const contactFormScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'contact-new' && route.name !== 'contact-edit') throw new Error('wrong route');
  const accountId = route.accountId;
  const existing = route.name === 'contact-edit' ? await loadContact(app.db, route.id) : undefined;
  const back = href.account(accountId);
  const title = existing ? t('contact.edit') : t('contact.new');
  if (route.name === 'contact-edit' && !existing) {
    return { el: h('p', { class: 'empty', testid: 'contact-not-found' }, t('contact.notFound')), title, back };
  }
  if (!(await app.db.get('accounts', accountId))) {
    return { el: h('p', { class: 'empty', testid: 'acct-not-found' }, t('acct.notFound')), title, back: href.accounts() };
  }

  const name = field('contact-name', t('contact.name'), textInput({ testid: 'contact-name', value: existing?.name ?? '', maxlength: 120, required: true, autocomplete: 'off' }));
  const jobTitle = field('contact-title', t('contact.title'), textInput({ testid: 'contact-title', value: existing?.title ?? '', maxlength: 120 }));
  const phones = field(
    'contact-phones',
    t('contact.phones'),
    textArea({ testid: 'contact-phones', value: (existing?.phones ?? []).join('\n'), rows: 2, inputmode: 'tel' }),
  );
  const email = field('contact-email', t('contact.email'), textInput({ type: 'email', testid: 'contact-email', value: existing?.email ?? '', maxlength: 254, autocomplete: 'off' }));
  const role = field(
    'contact-role',
    t('contact.role'),
    select({ testid: 'contact-role' }, DECISION_ROLES.map((r) => [r, t(`role.${r}`)] as const), existing?.decisionRole ?? 'user'),
  );
  const notes = field('contact-notes', t('contact.notes'), textArea({ testid: 'contact-notes', value: existing?.notes ?? '', rows: 3, maxlength: 10_000 }));
  const fields = { name, title: jobTitle, phones, email, notes };

  const message = h('p', { class: 'form-message', testid: 'contact-form-message', role: 'status', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'contact-save' }, t('form.save'));
  const say = (text: string) => {
    message.textContent = text;
    message.hidden = false;
  };

  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'contact-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        message.hidden = true;
        const input = {
          name: name.input.value.trim(),
          title: jobTitle.input.value.trim(),
          phones: parsePhones(phones.input.value),
          email: email.input.value.trim() || null,
          notes: notes.input.value,
        };
        const errors = validateContact(input);
        for (const [key, f] of Object.entries(fields)) f.setError(errors[key]);
        const firstBad = Object.keys(errors)[0] as keyof typeof fields | undefined;
        if (firstBad) {
          fields[firstBad].input.focus();
          return;
        }
        const decisionRole = role.input.value as DecisionRole;
        save.disabled = true;
        try {
          if (!existing) {
            await app.save({ name: 'contact.create', args: { id: uuid(), accountId, ...input, decisionRole } });
          } else {
            const current = (await loadContact(app.db, existing.id)) ?? existing;
            const changes: ContactChanges = diff(current, { ...input, decisionRole });
            if (Object.keys(changes).length === 0) {
              say(t('form.noChanges'));
              save.disabled = false;
              return;
            }
            await app.save({
              name: 'contact.update',
              args: { id: existing.id, accountId, baseVersion: current._base?.version ?? current.version, changes },
            });
          }
          app.toast(t('form.saved'));
          location.hash = back;
        } catch (error) {
          say(t('form.failed', { message: String(error) }));
          save.disabled = false;
        }
      },
    },
    name.row,
    jobTitle.row,
    phones.row,
    email.row,
    role.row,
    notes.row,
    message,
    save,
  );

  let removal: HTMLElement | null = null;
  if (existing) {
    const confirmBox = h(
      'div',
      { class: 'confirm', testid: 'contact-delete-confirm-box', hidden: true },
      h('p', null, t('contact.deleteConfirm', { name: existing.name })),
      h(
        'div',
        { class: 'row' },
        h(
          'button',
          {
            type: 'button',
            class: 'btn btn-danger',
            testid: 'contact-delete-confirm',
            onclick: async () => {
              await app.save({ name: 'contact.delete', args: { id: existing.id, accountId } });
              app.toast(t('form.saved'));
              location.hash = back;
            },
          },
          t('contact.deleteYes'),
        ),
        h('button', { type: 'button', class: 'btn', onclick: () => (confirmBox.hidden = true) }, t('form.cancel')),
      ),
    );
    removal = h(
      'div',
      { class: 'card' },
      h('button', { type: 'button', class: 'btn btn-danger-outline btn-block', testid: 'contact-delete', onclick: () => (confirmBox.hidden = false) }, t('contact.delete')),
      confirmBox,
    );
  }

  return { el: h('div', { class: 'contact-form-screen', testid: 'contact-screen' }, form, removal), title, back };
};
