// Hash routes (#/a/<id>): start_url "/" works on any static server, and offline the service worker
// only ever needs index.html.
import { SALES_ROOTS } from '../sales/href';
import { ADMIN_ROOTS } from '../admin/href';
import { WORK_ROOTS } from '../work/lazy';

export type Route =
  | { name: 'accounts' }
  | { name: 'account'; id: string }
  | { name: 'account-edit'; id: string }
  | { name: 'contact-new'; accountId: string }
  | { name: 'contact-edit'; accountId: string; id: string }
  | { name: 'today'; date?: string }
  | { name: 'plan-new'; accountId?: string }
  | { name: 'checkin'; accountId: string; planId?: string }
  | { name: 'visit'; id: string }
  | { name: 'review' }
  | { name: 'coverage' }
  | { name: 'rejected' }
  | { name: 'settings' }
  | { name: 'notifications' }
  | { name: 'login' }
  /** the selling screens (src/sales/href.ts): #/sales, #/pipeline, #/opportunities/…, #/quotes/…, #/approvals, #/cases/…, #/projects/… */
  | { name: 'sales'; parts: string[] }
  /** the leaders' and HQ's screens (src/admin/href.ts): #/admin, #/org, #/users, #/catalogue, #/workflow[/<key>], #/delegations, #/imports, #/projects */
  | { name: 'admin'; parts: string[] }
  /** the work screens (src/work/lazy.ts): #/home, #/tasks/…, #/calendar[/<day>], #/team, #/dashboard[/<level>/<id>] */
  | { name: 'work'; parts: string[] };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c, d] = parts;
  if (a === 'a' && b) {
    if (c === 'edit') return { name: 'account-edit', id: b };
    if (c === 'contacts' && d === 'new') return { name: 'contact-new', accountId: b };
    if (c === 'contacts' && d) return { name: 'contact-edit', accountId: b, id: d };
    return { name: 'account', id: b };
  }
  if (a === 'today') return b && /^\d{4}-\d{2}-\d{2}$/.test(b) ? { name: 'today', date: b } : { name: 'today' };
  if (a === 'plan') return b ? { name: 'plan-new', accountId: b } : { name: 'plan-new' };
  if (a === 'checkin' && b) return c ? { name: 'checkin', accountId: b, planId: c } : { name: 'checkin', accountId: b };
  if (a === 'visit' && b) return { name: 'visit', id: b };
  if (a === 'review') return { name: 'review' };
  if (a === 'coverage') return { name: 'coverage' };
  if (a === 'rejected') return { name: 'rejected' };
  if (a === 'settings') return { name: 'settings' };
  if (a === 'notifications') return { name: 'notifications' };
  if (a === 'login') return { name: 'login' };
  if (a && WORK_ROOTS.includes(a)) return { name: 'work', parts };
  if (a && ADMIN_ROOTS.includes(a) && !(a === 'projects' && b)) return { name: 'admin', parts };
  if (a && SALES_ROOTS.includes(a)) return { name: 'sales', parts };
  return { name: 'accounts' };
}

export const href = {
  accounts: () => '#/',
  account: (id: string) => `#/a/${encodeURIComponent(id)}`,
  accountEdit: (id: string) => `#/a/${encodeURIComponent(id)}/edit`,
  contactNew: (accountId: string) => `#/a/${encodeURIComponent(accountId)}/contacts/new`,
  contactEdit: (accountId: string, id: string) => `#/a/${encodeURIComponent(accountId)}/contacts/${encodeURIComponent(id)}`,
  today: (date?: string) => (date ? `#/today/${date}` : '#/today'),
  planNew: (accountId?: string) => (accountId ? `#/plan/${encodeURIComponent(accountId)}` : '#/plan'),
  checkin: (accountId: string, planId?: string | null) =>
    `#/checkin/${encodeURIComponent(accountId)}${planId ? `/${encodeURIComponent(planId)}` : ''}`,
  visit: (id: string) => `#/visit/${encodeURIComponent(id)}`,
  review: () => '#/review',
  coverage: () => '#/coverage',
  rejected: () => '#/rejected',
  settings: () => '#/settings',
  notifications: () => '#/notifications',
  login: () => '#/login',
};
