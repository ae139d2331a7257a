import { LOCALES, t } from '../../i18n';
import { h, select } from '../dom';
import type { ScreenFactory } from '../shell';

export const loginScreen: ScreenFactory = async (app) => {
  const again = app.me; // signed in before: the session ended
  const username = h('input', {
    id: 'login-username',
    name: 'username',
    testid: 'login-username',
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
    required: true,
    value: again?.user.username ?? '',
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    testid: 'login-password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'login-submit' }, t('login.submit'));
  const error = h('p', { class: 'form-error', testid: 'login-error', role: 'alert', hidden: true });
  const notice = again
    ? h('p', { class: 'notice', testid: 'login-notice' }, t('login.again', { name: again.user.displayName }))
    : !navigator.onLine
      ? h('p', { class: 'notice', testid: 'login-notice' }, t('login.offline'))
      : null;

  const usernameError = h('p', { class: 'field-error', id: 'login-username-error', testid: 'login-username-error', hidden: true });
  const passwordError = h('p', { class: 'field-error', id: 'login-password-error', testid: 'login-password-error', hidden: true });
  username.setAttribute('aria-describedby', 'login-username-error');
  password.setAttribute('aria-describedby', 'login-password-error');
  const fieldError = (input: HTMLInputElement, line: HTMLElement, message: string) => {
    line.textContent = message;
    line.hidden = !message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };

  const showError = (message: string) => {
    error.textContent = message;
    error.hidden = false;
  };

  const form = h(
    'form',
    {
      class: 'card login-form',
      testid: 'login-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        error.hidden = true;
        // Each missing field says so under itself.
        const missingUser = !username.value.trim();
        const missingPassword = !password.value;
        fieldError(username, usernameError, missingUser ? t('form.required', { field: t('login.username') }) : '');
        fieldError(password, passwordError, missingPassword ? t('form.required', { field: t('login.password') }) : '');
        if (missingUser || missingPassword) {
          (missingUser ? username : password).focus();
          return;
        }
        submit.disabled = true;
        submit.textContent = t('login.busy');
        const outcome = await app.login(username.value.trim(), password.value);
        submit.disabled = false;
        submit.textContent = t('login.submit');
        if (outcome.ok) return; // the shell moves on
        password.value = '';
        if (outcome.reason === 'failed') showError(t('login.failed'));
        else if (outcome.reason === 'offline') showError(t('login.offline'));
        else if (outcome.reason === 'other-user') showError(t('login.otherUser', { name: outcome.message ?? '' }));
        else showError(t('login.error', { message: outcome.message ?? '' }));
      },
    },
    h('label', { for: 'login-username' }, t('login.username')),
    username,
    usernameError,
    h('label', { for: 'login-password' }, t('login.password')),
    password,
    passwordError,
    error,
    submit,
  );

  const language = select(
    { class: 'lang-select', testid: 'login-lang', 'aria-label': t('settings.language'), onchange: (e: Event) => void app.setLocale((e.target as HTMLSelectElement).value as 'en' | 'zh-CN') },
    LOCALES.map((l) => [l, t(`lang.${l}`)] as const),
    document.documentElement.lang,
  );

  const el = h(
    'section',
    { class: 'login', testid: 'login-screen' },
    h('div', { class: 'login-brand' }, h('img', { src: '/icons/icon-192.png', alt: '', width: 56, height: 56 }), h('h1', null, t('app.title'))),
    h('p', { class: 'muted' }, t('login.intro')),
    notice,
    form,
    h('div', { class: 'login-lang' }, language),
  );
  setTimeout(() => (again ? password : username).focus(), 0);
  return { el, title: t('login.title'), back: again ? '#/' : undefined };
};
