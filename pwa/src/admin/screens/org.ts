// #/org: the org tree (HQ). Add a unit under another, rename it, move a subtree (the screen lists
// what moves with it before asking), deactivate a unit: its people are moved to a unit chosen
// here first, then the server removes it (it refuses while child units or accounts remain, and says so).
import type { App } from '../../app';
import { clear, h, select } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { ax } from '../i18n';
import { fetchAll, kindName, KINDS, labelled, message, notAllowed, panel, problemText, type OrgUnit, type User } from './common';

function subtree(units: OrgUnit[], root: OrgUnit): OrgUnit[] {
  return units.filter((u) => u.path.startsWith(root.path));
}

export async function orgScreen(app: App): Promise<Screen> {
  if (!app.can('org.manage')) return notAllowed(ax('org.title'));
  const treeBox = h('div', { class: 'admin-col', testid: 'org-tree' });
  const side = h('div', { class: 'admin-col', testid: 'org-side' });
  const status = message('org-message');
  let units: OrgUnit[] = [];
  let people: User[] = [];
  let selected: string | null = null;

  async function load(): Promise<void> {
    const [u, p] = await Promise.all([fetchAll<OrgUnit>(app, '/api/org-units'), fetchAll<User>(app, '/api/users?active=true')]);
    if (!u.ok) return status.set(u.message);
    if (!p.ok) return status.set(p.message);
    units = u.items.sort((a, b) => a.path.localeCompare(b.path));
    people = p.items;
    render();
  }

  const name = (id: string | null) => units.find((u) => u.id === id)?.name ?? '—';
  const peopleIn = (unitIds: Set<string>) => people.filter((p) => unitIds.has(p.orgUnitId));

  function render(): void {
    const children = (parent: string | null): HTMLElement | null => {
      const list = units.filter((u) => (parent === null ? u.parentId === null || !units.some((x) => x.id === u.parentId) : u.parentId === parent));
      if (!list.length) return null;
      return h(
        'ul',
        { class: 'org-level', role: parent === null ? 'tree' : 'group', 'aria-label': parent === null ? ax('org.title') : undefined },
        list.map((unit) => {
          const count = people.filter((p) => p.orgUnitId === unit.id).length;
          return h(
            'li',
            { role: 'treeitem', 'aria-selected': unit.id === selected ? 'true' : 'false', 'aria-expanded': 'true' },
            h(
              'button',
              { type: 'button', class: unit.id === selected ? 'org-node org-node-on' : 'org-node', testid: 'org-unit', 'data-id': unit.id, 'data-kind': unit.kind, onclick: () => pick(unit.id) },
              h('span', { class: 'org-name' }, unit.name),
              h('span', { class: 'muted small' }, ` ${kindName(unit.kind)} · ${ax('org.peopleCount', { n: count })}`),
            ),
            children(unit.id),
          );
        }),
      );
    };
    clear(treeBox, h('h2', { class: 'section-title' }, ax('org.tree')), children(null) ?? h('p', { class: 'empty' }, ax('org.none')));
    renderSide();
  }

  function pick(id: string): void {
    selected = id;
    status.set('');
    render();
  }

  function renderSide(): void {
    const unit = units.find((u) => u.id === selected);
    const addName = h('input', { type: 'text', testid: 'org-add-name', maxlength: 100, required: true });
    const addKind = select({ testid: 'org-add-kind' }, KINDS.map((k) => [k, kindName(k)] as const), unit ? KINDS[Math.min(KINDS.indexOf(unit.kind) + 1, 3)]! : 'hq');
    const add = panel(
      unit ? ax('org.addUnder', { name: unit.name }) : ax('org.addTop'),
      'org-add',
      h(
        'form',
        {
          class: 'form',
          onsubmit: async (event: Event) => {
            event.preventDefault();
            if (!addName.value.trim()) return status.set(ax('org.nameRequired'));
            const r = await app.api.post<OrgUnit>('/api/org-units', { name: addName.value.trim(), kind: addKind.value, parentId: unit?.id ?? null });
            if (!r.ok) return status.set(problemText(r));
            selected = r.data.id;
            await load();
            status.set(ax('org.added', { name: r.data.name }), 'ok');
          },
        },
        labelled('org-add-name', ax('org.name'), addName),
        labelled('org-add-kind', ax('org.kind'), addKind),
        h('button', { type: 'submit', class: 'btn btn-primary', testid: 'org-add-save' }, ax('org.add')),
      ),
    );
    if (!unit) {
      clear(side, h('p', { class: 'muted', testid: 'org-pick-hint' }, ax('org.pick')), add);
      return;
    }
    const moving = subtree(units, unit);
    const movingIds = new Set(moving.map((u) => u.id));
    const movingPeople = peopleIn(movingIds);

    const rename = h('input', { type: 'text', testid: 'org-rename-input', value: unit.name, maxlength: 100 });
    const renameForm = h(
      'form',
      {
        class: 'form',
        onsubmit: async (event: Event) => {
          event.preventDefault();
          if (!rename.value.trim()) return status.set(ax('org.nameRequired'));
          const r = await app.api.send<OrgUnit>('PATCH', `/api/org-units/${unit.id}`, { name: rename.value.trim() });
          if (!r.ok) return status.set(problemText(r));
          await load();
          status.set(ax('org.renamed', { name: r.data.name }), 'ok');
        },
      },
      labelled('org-rename-input', ax('org.name'), rename),
      h('button', { type: 'submit', class: 'btn', testid: 'org-rename-save' }, ax('org.rename')),
    );

    const targets = units.filter((u) => !movingIds.has(u.id));
    const moveTo = select({ testid: 'org-move-to' }, [['', ax('org.chooseParent')], ...targets.map((u) => [u.id, `${'· '.repeat(u.depth)}${u.name}`] as const)], '');
    const preview = h('div', { class: 'notice', testid: 'org-move-preview', hidden: true });
    const moveButton = h('button', { type: 'button', class: 'btn', testid: 'org-move-save', disabled: true }, ax('org.moveConfirm'));
    moveTo.addEventListener('change', () => {
      const target = units.find((u) => u.id === moveTo.value);
      moveButton.disabled = !target;
      preview.hidden = !target;
      if (!target) return;
      clear(
        preview,
        h('p', null, ax('org.movePreview', { name: unit.name, target: target.name, units: moving.length, people: movingPeople.length })),
        h('ul', { class: 'small', testid: 'org-move-list' }, moving.map((u) => h('li', { testid: 'org-move-unit' }, u.name, h('span', { class: 'muted' }, ` (${ax('org.peopleCount', { n: people.filter((p) => p.orgUnitId === u.id).length })})`)))),
      );
    });
    moveButton.addEventListener('click', async () => {
      const r = await app.api.send<OrgUnit>('PATCH', `/api/org-units/${unit.id}`, { parentId: moveTo.value });
      if (!r.ok) return status.set(problemText(r));
      const target = name(moveTo.value);
      await load();
      status.set(ax('org.moved', { name: unit.name, target }), 'ok');
    });

    const here = people.filter((p) => p.orgUnitId === unit.id);
    const others = units.filter((u) => u.id !== unit.id && !movingIds.has(u.id));
    const peopleTo = select({ testid: 'org-deactivate-people-to' }, [['', ax('org.choosePeopleUnit')], ...others.map((u) => [u.id, `${'· '.repeat(u.depth)}${u.name}`] as const)], unit.parentId ?? '');
    const deactivate = h('button', { type: 'button', class: 'btn btn-danger-outline', testid: 'org-deactivate' }, ax('org.deactivate'));
    deactivate.addEventListener('click', async () => {
      if (here.length && !peopleTo.value) return status.set(ax('org.peopleFirst', { n: here.length }));
      for (const person of here) {
        const r = await app.api.send('PATCH', `/api/users/${person.id}`, { orgUnitId: peopleTo.value });
        if (!r.ok) return status.set(`${person.displayName}: ${problemText(r)}`);
      }
      const r = await app.api.send('DELETE', `/api/org-units/${unit.id}`);
      if (!r.ok) {
        await load();
        return status.set(problemText(r));
      }
      selected = unit.parentId;
      await load();
      status.set(ax('org.deactivated', { name: unit.name, n: here.length }), 'ok');
    });

    clear(
      side,
      panel(
        unit.name,
        'org-detail',
        h('p', { class: 'muted small' }, `${kindName(unit.kind)} · ${ax('org.parent')}: ${name(unit.parentId)}`),
        renameForm,
      ),
      panel(ax('org.move'), 'org-move', labelled('org-move-to', ax('org.newParent'), moveTo), preview, moveButton),
      add,
      panel(
        ax('org.deactivate'),
        'org-deactivate-panel',
        here.length
          ? h('div', null, h('p', null, ax('org.peopleHere', { n: here.length })), h('ul', { class: 'small', testid: 'org-deactivate-people' }, here.map((p) => h('li', null, p.displayName))), labelled('org-deactivate-people-to', ax('org.peopleTo'), peopleTo))
          : h('p', { class: 'muted small' }, ax('org.nobodyHere')),
        deactivate,
      ),
    );
  }

  await load();
  return {
    el: h('div', { testid: 'org-screen' }, status.el, h('div', { class: 'admin-two' }, treeBox, side)),
    title: ax('org.title'),
    back: '#/admin',
  };
}
