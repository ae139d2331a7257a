// A new case, with or without a network (#/cases/new[/<accountId>]): saved to the outbox first
// (case.create with an id made here); the server starts its work order and deadline when it
// arrives. Until then the case shows on the device as waiting to be sent.
import type { App } from '../../app';
import { uuid } from '../../lib/uuid';
import { h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { salesHref } from '../href';
import { s, type SalesKey } from '../i18n';
import { CASE_TYPES, PRIORITIES, type CasePriority, type CaseType } from '../types';
import { validateCase } from '../validate';
import { accountPicker, labelled, savedText } from './bits';

export async function caseCreateScreen(app: App, parts: string[]): Promise<Screen> {
  const picker = await accountPicker(app, 'case-account', parts[2]);
  const type = labelled('case-type-select', s('case.type'), h('select', null, CASE_TYPES.map((x) => h('option', { value: x }, s(`caseType.${x}` as SalesKey)))));
  const priority = labelled('case-priority-select', s('case.priority'), h('select', null, PRIORITIES.map((x) => h('option', { value: x, selected: x === 'normal' }, s(`priority.${x}` as SalesKey)))));
  const title = labelled('case-title', s('case.titleField'), h('input', { type: 'text', maxlength: 200 }));
  const description = labelled('case-description', s('case.description'), h('textarea', { rows: 4 }));
  const message = h('p', { class: 'form-message', testid: 'case-form-message', role: 'status', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'case-save' }, s('case.create'));
  const id = uuid();
  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'case-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const input = { accountId: picker.value(), type: type.input.value, priority: priority.input.value, title: title.input.value, description: description.input.value };
        const errors = validateCase(input);
        picker.setError(errors.account);
        title.setError(errors.title);
        description.setError(errors.description);
        if (Object.keys(errors).length) return;
        save.disabled = true;
        try {
          await app.save({
            name: 'case.create',
            args: { id, accountId: input.accountId, type: input.type as CaseType, priority: input.priority as CasePriority, title: input.title.trim(), description: input.description },
          });
          // Online, the case is sent at once, so it opens with the steps and deadline the server gave it.
          if (navigator.onLine) await app.engine.run();
          const sent = !(await app.db.getAll('outbox')).some((m) => m.name === 'case.create' && m.args.id === id);
          if (!sent) app.toast(navigator.onLine ? savedText() : s('case.savedOffline'));
          location.hash = salesHref.case(id);
        } catch (error) {
          message.textContent = String(error);
          message.hidden = false;
          save.disabled = false;
        }
      },
    },
    picker.el,
    type.row,
    priority.row,
    title.row,
    description.row,
    message,
    save,
  );
  return { el: h('div', { testid: 'case-new-screen' }, form), title: s('case.new'), back: parts[2] ? `#/a/${encodeURIComponent(parts[2])}` : salesHref.cases() };
}
