// The API's shapes as the PWA uses them, named from the generated OpenAPI types (schema.d.ts:
// `npm run gen:api`).
import type { components } from './schema';

type Schemas = components['schemas'];

export type Account = Schemas['Account'];
export type Contact = Schemas['Contact'];
export type Holding = Schemas['Holding'];
export type User = Schemas['User'];
export type Me = Schemas['Me'];
export type LoginResponse = Schemas['LoginResponse'];
export type Overview = Schemas['Overview'];
export type TimelineItem = Schemas['TimelineItem'];
export type AccountRef = Schemas['AccountRef'];
export type AccountPatch = Schemas['AccountPatch'];
export type ContactPatch = Schemas['ContactPatch'];

export type Tier = NonNullable<Account['tier']>;
export type AccountStatus = Account['status'];
export type DecisionRole = Contact['decisionRole'];

export const TIERS: readonly Tier[] = ['A', 'B', 'C'];
export const STATUSES: readonly AccountStatus[] = ['prospect', 'active', 'at_risk', 'lost'];
export const DECISION_ROLES: readonly DecisionRole[] = ['decision_maker', 'influencer', 'user', 'gatekeeper'];

/** A note on an account (append-only). */
export type Note = Schemas['Note'];

/** One month of revenue as a pull sends it: [accountId, "YYYY-MM", cents]. */
export type RevenueTuple = [string, string, number];

export type PullRequest = Schemas['PullRequest'];
export type PullResponse = Schemas['PullResponse'];

export type MutationStatus = Schemas['MutationResult']['status'];

/** docs/sync.md: a rejected conflict may say which fields clashed. */
export type MutationResult = Schemas['MutationResult'] & {
  conflicts?: Record<string, { yours: unknown; server: unknown }>;
};

export type PushResponse = Omit<Schemas['PushResponse'], 'results'> & { results: MutationResult[] };

/** A rejection as GET /api/sync/rejections lists it again. */
export type RejectionRecord = Schemas['Rejection'] & { conflicts?: MutationResult['conflicts'] };
export type RejectionPage = Schemas['RejectionPage'];

/** An RFC 9457 problem body. */
export interface Problem {
  title?: string;
  detail?: string;
  status?: number;
  code?: string;
  field?: string;
  errors?: { field?: string; message?: string }[];
}

// ---------------------------------------------------------------- field work (visits, plans, coverage)
// backend/fieldcrm/visits/schemas.py

export type Visit = Schemas['Visit'];
export type VisitPage = Schemas['VisitPage'];
export type Flag = Schemas['Flag'];
export type Verdict = Visit['verdict'];
export type FlagCode = Flag['code'];
export type ReviewStatus = Visit['reviewStatus'];
export type VisitPlan = Schemas['VisitPlan'];
export type VisitPlanPage = Schemas['VisitPlanPage'];
export type PlanStatus = VisitPlan['status'];
export type DayPlan = Schemas['DayPlan'];
export type PlanOrder = DayPlan['order'];
export type LocationProposal = Schemas['LocationProposal'];
export type LocationProposalPage = Schemas['LocationProposalPage'];
export type CoverageRow = Schemas['CoverageRow'];
export type CoverageReport = Schemas['CoverageReport'];
export type CoverageGroupBy = CoverageReport['groupBy'];
export type NeglectedAccount = Schemas['NeglectedAccount'];
export type NeglectedPage = Schemas['NeglectedPage'];
export type MapCell = Schemas['MapCell'];
export type MapPoint = Schemas['MapPoint'];
export type CoverageMap = Schemas['CoverageMap'];
export type CoverageStatus = MapPoint['status'];

export const COVERAGE_STATUSES: readonly CoverageStatus[] = ['covered', 'due_soon', 'overdue', 'never'];
