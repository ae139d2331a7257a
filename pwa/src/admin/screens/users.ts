// #/users: people (HQ). Search by name or username, filter by role; add a person; change a role or
// unit (the server re-scopes their devices), deactivate (their sessions end) or reactivate, set a
// new password. The API records no sign-ins or devices per user yet, so neither is shown.
import type { App } from '../../app';
import { formatDateTime } from '../../i18n';
import { clear, h, select } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { ax } from '../i18n';
import { dataTable, fetchAll, labelled, message, notAllowed, panel, problemText, roleName, ROLES, type OrgUnit, type Page, type User } from './common';

const MIN_PASSWORD = 8; // org/schemas.py Password

export async function usersScreen(app: App): Promise<Screen> {
  if (!app.can('users.manage')) return notAllowed(ax('users.title'));
  const status = message('users-message');
  const units = await fetchAll<OrgUnit>(app, '/api/org-units');
  const unitOptions = units.ok ? units.items.sort((a, b) => a.path.localeCompare(b.path)).map((u) => [u.id, `${'· '.repeat(u.depth)}${u.name}`] as const) : [];
  const q = h('input', { type: 'search', testid: 'users-search', placeholder: ax('users.searchHint') });
  const role = select({ testid: 'users-role-filter' }, [['', ax('users.allRoles')], ...ROLES.map((r) => [r, roleName(r)] as const)], '');
  const active = select({ testid: 'users-active-filter' }, [['true', ax('users.active')], ['false', ax('users.inactive')], ['', ax('users.everyone')]], 'true');
  const count = h('p', { class: 'list-count', testid: 'users-count', 'aria-live': 'polite' });
  const listBox = h('div', { testid: 'users-list' });
  const side = h('div', { class: 'admin-col', testid: 'users-side' });
  let rows: User[] = [];
  let selected: string | null = null;
  /** the person just saved: shown even when the list's filter no longer holds them (deactivated) */
  let saved: User | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function load(): Promise<void> {
    const params = new URLSearchParams({ limit: '100' });
    if (q.value.trim()) params.set('q', q.value.trim());
    if (role.value) params.set('role', role.value);
    if (active.value) params.set('active', active.value);
    count.textContent = ax('loading');
    const r = await app.api.get<Page<User>>(`/api/users?${params}`);
    if (!r.ok) {
      count.textContent = '';
      return status.set(problemText(r));
    }
    rows = r.data.items;
    count.textContent = r.data.total > rows.length ? ax('users.countOf', { n: rows.length, total: r.data.total }) : ax('users.count', { n: r.data.total });
    count.dataset.count = String(r.data.total);
    renderList();
  }

  function renderList(): void {
    clear(
      listBox,
      rows.length
        ? dataTable(
            ax('users.title'),
            'users-table',
            [ax('users.name'), ax('users.username'), ax('users.role'), ax('users.unit'), ax('users.state')],
            rows.map((u) =>
              h(
                'tr',
                { testid: 'user-row', 'data-id': u.id, 'data-role': u.role, 'data-active': String(u.isActive), class: u.id === selected ? 'row-on' : undefined },
                h('td', null, h('button', { type: 'button', class: 'link-btn', testid: 'user-open', onclick: () => pick(u.id) }, u.displayName)),
                h('td', null, u.username),
                h('td', null, roleName(u.role)),
                h('td', null, u.orgUnitName),
                h('td', null, u.isActive ? ax('users.active') : ax('users.inactive')),
              ),
            ),
            [],
            [1, 4],
          )
        : h('p', { class: 'empty', testid: 'users-empty' }, ax('users.none')),
    );
  }

  function pick(id: string | null): void {
    selected = id;
    status.set('');
    renderList();
    renderSide();
  }

  function addForm(): HTMLElement {
    const username = h('input', { type: 'text', testid: 'user-add-username', autocomplete: 'off', maxlength: 64 });
    const display = h('input', { type: 'text', testid: 'user-add-name', maxlength: 100 });
    const password = h('input', { type: 'password', testid: 'user-add-password', autocomplete: 'new-password' });
    const newRole = select({ testid: 'user-add-role' }, ROLES.map((r) => [r, roleName(r)] as const), 'rep');
    const unit = select({ testid: 'user-add-unit' }, [['', ax('users.chooseUnit')], ...unitOptions], '');
    return panel(
      ax('users.add'),
      'user-add',
      h(
        'form',
        {
          class: 'form',
          onsubmit: async (event: Event) => {
            event.preventDefault();
            if (!username.value.trim()) return status.set(ax('users.usernameRequired'));
            if (!display.value.trim()) return status.set(ax('users.nameRequired'));
            if (password.value.length < MIN_PASSWORD) return status.set(ax('users.passwordShort', { n: MIN_PASSWORD }));
            if (!unit.value) return status.set(ax('users.unitRequired'));
            const r = await app.api.post<User>('/api/users', { username: username.value.trim(), displayName: display.value.trim(), password: password.value, role: newRole.value, orgUnitId: unit.value });
            if (!r.ok) return status.set(problemText(r));
            q.value = r.data.username;
            selected = r.data.id;
            await load();
            renderSide();
            status.set(ax('users.added', { name: r.data.displayName }), 'ok');
          },
        },
        labelled('user-add-username', ax('users.username'), username),
        labelled('user-add-name', ax('users.name'), display),
        labelled('user-add-password', ax('users.password'), password, ax('users.passwordHint', { n: MIN_PASSWORD })),
        labelled('user-add-role', ax('users.role'), newRole),
        labelled('user-add-unit', ax('users.unit'), unit),
        h('button', { type: 'submit', class: 'btn btn-primary', testid: 'user-add-save' }, ax('users.addButton')),
      ),
    );
  }

  function renderSide(): void {
    const user = rows.find((u) => u.id === selected) ?? (saved?.id === selected ? saved : undefined);
    if (!user) {
      clear(side, addForm());
      return;
    }
    const newRole = select({ testid: 'user-role' }, ROLES.map((r) => [r, roleName(r)] as const), user.role);
    const unit = select({ testid: 'user-unit' }, unitOptions, user.orgUnitId);
    const save = async (patch: Record<string, unknown>, done: string) => {
      const r = await app.api.send<User>('PATCH', `/api/users/${user.id}`, patch);
      if (!r.ok) return status.set(problemText(r));
      saved = r.data;
      await load();
      renderSide();
      status.set(done, 'ok');
    };
    const password = h('input', { type: 'password', testid: 'user-new-password', autocomplete: 'new-password' });
    clear(
      side,
      panel(
        user.displayName,
        'user-detail',
        h(
          'dl',
          { class: 'fields' },
          h('dt', null, ax('users.username')),
          h('dd', { testid: 'user-username' }, user.username),
          h('dt', null, ax('users.state')),
          h('dd', { testid: 'user-state' }, user.isActive ? ax('users.active') : ax('users.inactive')),
          h('dt', null, ax('users.since')),
          h('dd', null, formatDateTime(user.createdAt)),
          h('dt', null, ax('users.changed')),
          h('dd', null, formatDateTime(user.updatedAt)),
        ),
        h(
          'form',
          {
            class: 'form',
            onsubmit: (event: Event) => {
              event.preventDefault();
              void save({ role: newRole.value, orgUnitId: unit.value }, ax('users.saved', { name: user.displayName }));
            },
          },
          labelled('user-role', ax('users.role'), newRole),
          labelled('user-unit', ax('users.unit'), unit, ax('users.rescopeHint')),
          h('button', { type: 'submit', class: 'btn btn-primary', testid: 'user-save' }, ax('save')),
        ),
      ),
      panel(
        ax('users.password'),
        'user-password',
        h(
          'form',
          {
            class: 'form',
            onsubmit: (event: Event) => {
              event.preventDefault();
              if (password.value.length < MIN_PASSWORD) return status.set(ax('users.passwordShort', { n: MIN_PASSWORD }));
              void save({ password: password.value }, ax('users.passwordSet', { name: user.displayName }));
            },
          },
          labelled('user-new-password', ax('users.newPassword'), password, ax('users.passwordHint', { n: MIN_PASSWORD })),
          h('button', { type: 'submit', class: 'btn', testid: 'user-password-save' }, ax('users.setPassword')),
        ),
      ),
      h(
        'div',
        { class: 'row' },
        user.isActive
          ? h('button', { type: 'button', class: 'btn btn-danger-outline', testid: 'user-deactivate', onclick: () => void save({ isActive: false }, ax('users.deactivated', { name: user.displayName })) }, ax('users.deactivate'))
          : h('button', { type: 'button', class: 'btn', testid: 'user-activate', onclick: () => void save({ isActive: true }, ax('users.activated', { name: user.displayName })) }, ax('users.activate')),
        h('button', { type: 'button', class: 'btn', testid: 'user-new', onclick: () => pick(null) }, ax('users.add')),
      ),
    );
  }

  const refilter = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void load(), 250);
  };
  q.addEventListener('input', refilter);
  role.addEventListener('change', () => void load());
  active.addEventListener('change', () => void load());
  await load();
  renderSide();
  if (!units.ok) status.set(units.message);
  return {
    el: h(
      'div',
      { testid: 'users-screen' },
      status.el,
      h(
        'div',
        { class: 'admin-two' },
        h('div', { class: 'admin-col' }, h('div', { class: 'filters filters-3 admin-filters' }, labelled('users-search', ax('users.search'), q), labelled('users-role-filter', ax('users.role'), role), labelled('users-active-filter', ax('users.state'), active)), count, listBox),
        side,
      ),
    ),
    title: ax('users.title'),
    back: '#/admin',
    destroy: () => clearTimeout(timer),
  };
}
