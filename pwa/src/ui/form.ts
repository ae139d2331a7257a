// Labelled form fields with an error line each.
import { h, type Props } from './dom';

export interface Field<E extends HTMLElement> {
  row: HTMLElement;
  input: E;
  setError(message: string | undefined): void;
}

export function field<E extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
  id: string,
  label: string,
  input: E,
): Field<E> {
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, testid: `${id}-error`, hidden: true });
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), input, error);
  return {
    row,
    input,
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
      input.setAttribute('aria-describedby', `${id}-error`);
    },
  };
}

export function textInput(props: Props): HTMLInputElement {
  return h('input', { type: 'text', ...props });
}

export function textArea(props: Props): HTMLTextAreaElement {
  return h('textarea', { rows: 3, ...props });
}
