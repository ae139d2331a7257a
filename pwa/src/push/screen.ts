// Settings › Notifications: this device on or off, which kinds I want, quiet hours, my other devices.
// Preferences live on the server (the delivery worker applies them), so changing them needs a connection.
import { formatDate, t } from '../i18n';
import { h } from '../ui/dom';
import { href } from '../ui/router';
import type { ScreenFactory } from '../ui/shell';
import { disablePush, enablePush, pushState, type PushDevice, type PushPreferences, type PushState } from './client';
import { getValue } from './store';

const KINDS = [
  ['approvals', 'push.kind.approvals'],
  ['slaWarnings', 'push.kind.slaWarnings'],
  ['assignments', 'push.kind.assignments'],
  ['dailyDigest', 'push.kind.dailyDigest'],
] as const;

const STATE_TEXT: Record<PushState, Parameters<typeof t>[0]> = {
  on: 'push.state.on',
  off: 'push.state.off',
  blocked: 'push.blocked',
  unsupported: 'push.unsupported',
  'ios-home-screen': 'push.iosHomeScreen',
};

function checkbox(testid: string, label: string, checked: boolean): [HTMLLabelElement, HTMLInputElement] {
  const input = h('input', { type: 'checkbox', testid, checked });
  return [h('label', { class: 'row' }, input, h('span', null, label)), input];
}

export const notificationsScreen: ScreenFactory = async (app) => {
  const status = h('p', { class: 'muted', role: 'status', testid: 'push-status' });
  const stateText = h('p', { testid: 'push-state' });
  const toggle = h('button', { type: 'button', class: 'btn btn-primary', testid: 'push-toggle' });
  const devices = h('ul', { class: 'stack', testid: 'push-devices' });

  const showState = async (): Promise<void> => {
    const state = await pushState();
    stateText.textContent = t(STATE_TEXT[state]);
    stateText.dataset.state = state;
    toggle.hidden = state === 'unsupported' || state === 'ios-home-screen' || state === 'blocked';
    toggle.textContent = t(state === 'on' ? 'push.disable' : 'push.enable');
    toggle.dataset.on = String(state === 'on');
  };
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    if (toggle.dataset.on === 'true') {
      await disablePush(app);
      status.textContent = t('push.disabled');
    } else {
      const result = await enablePush(app);
      status.textContent = result.ok ? t('push.enabled') : result.message;
    }
    toggle.disabled = false;
    await Promise.all([showState(), loadDevices()]);
  });

  const loadDevices = async (): Promise<void> => {
    const result = await app.api.get<{ items: PushDevice[] }>('/api/push/subscriptions?limit=100');
    if (!result.ok) {
      devices.replaceChildren(h('li', { class: 'muted' }, t('push.needsNetwork')));
      return;
    }
    const mine = await getValue('deviceId');
    devices.replaceChildren(
      ...(result.data.items.length ? [] : [h('li', { class: 'muted' }, t('push.noDevices'))]),
      ...result.data.items.map((d) =>
        h(
          'li',
          { class: 'row', testid: 'push-device' },
          h('span', null, `${d.userAgent || d.pushService}${d.id === mine ? ` (${t('push.thisDevice')})` : ''}`),
          h('span', { class: 'muted small' }, formatDate(d.createdAt)),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              testid: 'push-device-remove',
              onclick: async () => {
                const removed = await app.api.send('DELETE', `/api/push/subscriptions/${encodeURIComponent(d.id)}`);
                status.textContent = removed.ok ? t('push.removed') : t('push.needsNetwork');
                await loadDevices();
              },
            },
            t('push.remove'),
          ),
        ),
      ),
    );
  };

  const [quietRow, quietOn] = checkbox('push-quiet', t('push.quiet'), false);
  const quietStart = h('input', { type: 'time', testid: 'push-quiet-start', value: '22:00', 'aria-label': t('push.quietFrom') });
  const quietEnd = h('input', { type: 'time', testid: 'push-quiet-end', value: '07:00', 'aria-label': t('push.quietTo') });
  const kindInputs = new Map<string, HTMLInputElement>();
  const kindRows = KINDS.map(([name, label]) => {
    const [row, input] = checkbox(`push-kind-${name}`, t(label), true);
    kindInputs.set(name, input);
    return row;
  });
  let timezone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'Asia/Shanghai';
  const save = h('button', { type: 'button', class: 'btn btn-primary btn-block', testid: 'push-save' }, t('form.save'));
  save.addEventListener('click', async () => {
    const body: PushPreferences = {
      approvals: kindInputs.get('approvals')!.checked,
      slaWarnings: kindInputs.get('slaWarnings')!.checked,
      assignments: kindInputs.get('assignments')!.checked,
      dailyDigest: kindInputs.get('dailyDigest')!.checked,
      quietHours: quietOn.checked ? { start: quietStart.value, end: quietEnd.value } : null,
      timezone,
    };
    const result = await app.api.send<PushPreferences>('PUT', '/api/push/preferences', body);
    status.textContent = result.ok ? t('form.saved') : result.status === 0 ? t('push.needsNetwork') : (result.problem?.detail ?? `HTTP ${result.status}`);
  });

  const prefs = await app.api.get<PushPreferences>('/api/push/preferences');
  if (prefs.ok) {
    for (const [name] of KINDS) kindInputs.get(name)!.checked = prefs.data[name];
    quietOn.checked = prefs.data.quietHours !== null;
    if (prefs.data.quietHours) {
      quietStart.value = prefs.data.quietHours.start;
      quietEnd.value = prefs.data.quietHours.end;
    }
    timezone = prefs.data.timezone;
  } else {
    status.textContent = t('push.needsNetwork');
    save.disabled = prefs.status === 0;
  }
  await Promise.all([showState(), loadDevices()]);

  const el = h(
    'div',
    { class: 'stack', testid: 'notifications-screen' },
    h('section', { class: 'card' }, h('h2', { class: 'card-title' }, t('push.thisDevice')), stateText, toggle, status),
    h(
      'section',
      { class: 'card' },
      h('h2', { class: 'card-title' }, t('push.kinds')),
      ...kindRows,
      quietRow,
      h('div', { class: 'row' }, quietStart, h('span', null, '–'), quietEnd),
      h('p', { class: 'muted small' }, t('push.quietNote')),
      save,
    ),
    h('section', { class: 'card' }, h('h2', { class: 'card-title' }, t('push.devices')), devices),
  );
  return { el, title: t('push.title'), back: href.settings() };
};
