// The admin chunk's entry (loaded on first use): #/admin, #/org, #/users, #/catalogue,
// #/workflow[/<key>[/<version>]], #/delegations, #/imports, #/projects.
import '../admin.css';
import type { App } from '../../app';
import type { Route } from '../../ui/router';
import type { Screen } from '../../ui/shell';
import { catalogueScreen } from './catalogue';
import { delegationsScreen } from './delegations';
import { importsScreen } from './imports';
import { adminIndexScreen } from './index';
import { orgScreen } from './org';
import { projectsScreen } from './projects';
import { usersScreen } from './users';
import { workflowScreen } from './workflow';

export async function adminScreens(app: App, route: Route): Promise<Screen> {
  if (route.name !== 'admin') throw new Error('wrong route');
  const parts = route.parts;
  switch (parts[0]) {
    case 'org':
      return orgScreen(app);
    case 'users':
      return usersScreen(app);
    case 'catalogue':
      return catalogueScreen(app);
    case 'workflow':
      return workflowScreen(app, parts);
    case 'delegations':
      return delegationsScreen(app);
    case 'imports':
      return importsScreen(app);
    case 'projects':
      return projectsScreen(app);
    default:
      return adminIndexScreen(app);
  }
}
