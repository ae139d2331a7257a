// Hash routes (#/a/<id>): start_url "/" works on any static server, and offline the service worker
// only ever needs index.html.
export type Route =
  | { name: 'accounts' }
  | { name: 'account'; id: string }
  | { name: 'account-edit'; id: string }
  | { name: 'contact-new'; accountId: string }
  | { name: 'contact-edit'; accountId: string; id: string }
  | { name: 'rejected' }
  | { name: 'settings' }
  | { name: 'login' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const [a, b, c, d] = parts;
  if (a === 'a' && b) {
    if (c === 'edit') return { name: 'account-edit', id: b };
    if (c === 'contacts' && d === 'new') return { name: 'contact-new', accountId: b };
    if (c === 'contacts' && d) return { name: 'contact-edit', accountId: b, id: d };
    return { name: 'account', id: b };
  }
  if (a === 'rejected') return { name: 'rejected' };
  if (a === 'settings') return { name: 'settings' };
  if (a === 'login') return { name: 'login' };
  return { name: 'accounts' };
}

export const href = {
  accounts: () => '#/',
  account: (id: string) => `#/a/${encodeURIComponent(id)}`,
  accountEdit: (id: string) => `#/a/${encodeURIComponent(id)}/edit`,
  contactNew: (accountId: string) => `#/a/${encodeURIComponent(accountId)}/contacts/new`,
  contactEdit: (accountId: string, id: string) => `#/a/${encodeURIComponent(accountId)}/contacts/${encodeURIComponent(id)}`,
  rejected: () => '#/rejected',
  settings: () => '#/settings',
  login: () => '#/login',
};
