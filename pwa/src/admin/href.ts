// Hash routes of the leaders' and HQ's screens. #/projects alone is the project list (a project,
// #/projects/<id>, is a selling screen: the workflow's subject url).
const e = encodeURIComponent;

export const ADMIN_ROOTS: readonly string[] = ['admin', 'org', 'users', 'catalogue', 'workflow', 'delegations', 'imports', 'projects'];

export const adminHref = {
  index: () => '#/admin',
  org: () => '#/org',
  users: () => '#/users',
  catalogue: () => '#/catalogue',
  workflow: (key?: string, version?: number) => (key ? `#/workflow/${e(key)}${version ? `/${version}` : ''}` : '#/workflow'),
  delegations: () => '#/delegations',
  imports: () => '#/imports',
  projects: () => '#/projects',
};
