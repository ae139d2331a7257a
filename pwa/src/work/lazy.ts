// The work screens (Home, tasks, calendar, Team, dashboard) load on first use, in their own chunk.
import type { ScreenFactory } from '../ui/shell';

export const WORK_ROOTS: readonly string[] = ['home', 'tasks', 'calendar', 'team', 'dashboard'];

export const workHref = {
  home: () => '#/home',
  tasks: (filter?: string) => (filter ? `#/tasks/${filter}` : '#/tasks'),
  taskNew: (accountId?: string | null) => (accountId ? `#/tasks/new/${encodeURIComponent(accountId)}` : '#/tasks/new'),
  taskEdit: (id: string) => `#/tasks/edit/${encodeURIComponent(id)}`,
  calendar: (date?: string) => (date ? `#/calendar/${date}` : '#/calendar'),
  team: () => '#/team',
  dashboard: (level?: string, id?: string) => (level && id ? `#/dashboard/${level}/${encodeURIComponent(id)}` : '#/dashboard'),
};

export const workScreen: ScreenFactory = async (app, route) => (await import('./work-screens')).workScreens(app, route);
