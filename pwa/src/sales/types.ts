// The API's selling, approval and case shapes as the PWA uses them (from the generated OpenAPI
// types), and what the device keeps of them.
import type { components } from '../api/schema';

type Schemas = components['schemas'];

export type Product = Schemas['Product'];
export type Stage = Schemas['Stage'];
export type StageKind = Stage['kind'];
export type Opportunity = Schemas['Opportunity'];
export type OpportunityPage = Schemas['OpportunityPage'];
export type Pipeline = Schemas['Pipeline'];
export type PipelineStage = Schemas['PipelineStage'];
export type Quote = Schemas['Quote'];
export type QuoteLine = Schemas['QuoteLine'];
export type QuoteLineIn = Schemas['QuoteLineIn'];
export type QuoteSummary = Schemas['QuoteSummary'];
export type QuotePage = Schemas['QuotePage'];
export type QuoteState = Quote['state'];
export type InboxItem = Schemas['InboxItem'];
export type InboxPage = Schemas['InboxPage'];
export type Instance = Schemas['Instance'];
export type ApprovalRound = Schemas['ApprovalRound'];
export type InstancePage = Schemas['InstancePage'];
export type Step = Schemas['Step'];
export type Decision = Schemas['Decision'];
export type DecisionKind = Decision['decision'];
export type StepDetail = Schemas['StepDetail'];
export type DecisionResult = Schemas['DecisionResult'];
export type Case = Schemas['Case'];
export type CasePage = Schemas['CasePage'];
export type CaseType = Case['type'];
export type CasePriority = Case['priority'];
export type WorkStep = Schemas['WorkStep'];

export const CASE_TYPES: readonly CaseType[] = ['complaint', 'fault', 'service_request'];
export const PRIORITIES: readonly CasePriority[] = ['urgent', 'high', 'normal', 'low'];

/** Fields of an opportunity a rep edits (the guarded ones conflict on a stale base version). */
export type OpportunityChanges = Partial<
  Pick<Opportunity, 'name' | 'stage' | 'amountCents' | 'probability' | 'expectedClose' | 'productIds' | 'competitor' | 'nextStep' | 'lostReason'>
>;
export const GUARDED_FIELDS = ['stage', 'amountCents', 'expectedClose'] as const;

export interface QuoteChanges {
  title?: string;
  validUntil?: string | null;
  notes?: string;
  lines?: QuoteLineIn[];
}

interface Local<T> {
  /** a queued change touches this row */
  _pending?: boolean;
  /** the server's copy before the first queued change (null: made here) */
  _base?: T | null;
  /** the server has the device's change; its own copy is fetched again */
  _stale?: boolean;
}

export type LocalOpportunity = Opportunity & Local<Opportunity>;
export type LocalQuote = Quote & Local<Quote>;

/** A case or project on the device: pulled from the server (with its steps) or made here (`_base: null`). */
export type LocalCase = Case & Local<Case> & { kind?: 'case' | 'project' };
