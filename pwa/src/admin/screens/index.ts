// #/admin: what leaders and HQ administer here, as links with a line each; only what the role may use.
import type { App } from '../../app';
import { h } from '../../ui/dom';
import type { Screen } from '../../ui/shell';
import { adminHref } from '../href';
import { ax, type AdminKey } from '../i18n';

interface Entry {
  key: string;
  to: string;
  title: AdminKey;
  line: AdminKey;
  permission: string;
}

const ENTRIES: Entry[] = [
  { key: 'org', to: adminHref.org(), title: 'org.title', line: 'index.org', permission: 'org.manage' },
  { key: 'users', to: adminHref.users(), title: 'users.title', line: 'index.users', permission: 'users.manage' },
  { key: 'catalogue', to: adminHref.catalogue(), title: 'cat.title', line: 'index.catalogue', permission: 'catalogue.manage' },
  { key: 'workflow', to: adminHref.workflow(), title: 'wf.title', line: 'index.workflow', permission: 'workflow.definitions' },
  { key: 'imports', to: adminHref.imports(), title: 'imp.title', line: 'index.imports', permission: 'accounts.import' },
  { key: 'delegations', to: adminHref.delegations(), title: 'del.title', line: 'index.delegations', permission: 'delegations.manage' },
  { key: 'projects', to: adminHref.projects(), title: 'proj.title', line: 'index.projects', permission: 'sales.read' },
];

export function visibleEntries(app: App): Entry[] {
  return ENTRIES.filter((entry) => app.can(entry.permission));
}

export async function adminIndexScreen(app: App): Promise<Screen> {
  const entries = visibleEntries(app);
  return {
    el: h(
      'div',
      { class: 'admin-index', testid: 'admin-index' },
      h(
        'ul',
        { class: 'admin-grid plain-list' },
        entries.map((entry) =>
          h(
            'li',
            null,
            h('a', { class: 'card admin-link', href: entry.to, testid: `admin-link-${entry.key}` }, h('strong', null, ax(entry.title)), h('span', { class: 'muted small' }, ax(entry.line))),
          ),
        ),
      ),
    ),
    title: ax('index.title'),
  };
}
