// Hash routes of the selling screens (#/pipeline, #/opportunities/…, #/quotes/…, #/approvals,
// #/cases/…). The push notifications open #/quotes/<id> and #/cases/<id> (workflow subjects' url).
const e = encodeURIComponent;

// 'map' (the rep's map of my accounts) and 'prospects' (a new account made on the phone) load with this chunk too.
export const SALES_ROOTS: readonly string[] = ['sales', 'pipeline', 'opportunities', 'quotes', 'approvals', 'cases', 'projects', 'map', 'prospects'];

export const salesHref = {
  hub: () => '#/sales',
  pipeline: (scope?: 'team') => (scope ? '#/pipeline/team' : '#/pipeline'),
  opportunity: (id: string) => `#/opportunities/${e(id)}`,
  opportunityNew: (accountId?: string) => (accountId ? `#/opportunities/new/${e(accountId)}` : '#/opportunities/new'),
  quotes: () => '#/quotes',
  quote: (id: string) => `#/quotes/${e(id)}`,
  quoteNew: (accountId?: string, opportunityId?: string) =>
    `#/quotes/new${accountId ? `/${e(accountId)}` : ''}${accountId && opportunityId ? `/${e(opportunityId)}` : ''}`,
  approvals: () => '#/approvals',
  cases: () => '#/cases',
  case: (id: string) => `#/cases/${e(id)}`,
  caseNew: (accountId?: string) => (accountId ? `#/cases/new/${e(accountId)}` : '#/cases/new'),
  project: (id: string) => `#/projects/${e(id)}`,
  /** the printable quote (HTML from the server, opened in a new tab) */
  print: (id: string, lang: string) => `/api/quotes/${e(id)}/print?lang=${e(lang)}`,
};
