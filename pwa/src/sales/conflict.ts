// What the device shows when the server kept its own value: an opportunity edited on a stale
// version (stage, amount, close date: "yours" and "the server's", pick one) or a quote edited after
// it left draft (the edit became a new draft revision). Pure: the screens render it.
import type { RejectedMutation } from '../db/db';
import type { NewMutation } from '../sync/mutations';
import type { Opportunity, OpportunityChanges } from './types';

export interface ConflictRow {
  field: string;
  label: string;
  yours: string;
  server: string;
}

export interface ConflictView {
  kind: 'opportunity' | 'quote-revised' | 'other';
  /** the opportunity or quote the change was for */
  subjectId: string;
  rows: ConflictRow[];
  /** quote-revised: the new draft that holds the edit, and what the quote had become */
  revisionId: string | null;
  serverState: string | null;
  message: string;
}

export interface ConflictFormat {
  label(field: string): string;
  value(field: string, value: unknown): string;
}

type Raw = Record<string, { yours?: unknown; server?: unknown; revisionId?: unknown } | undefined>;

export function conflictView(record: RejectedMutation, format: ConflictFormat): ConflictView | null {
  const m = record.mutation;
  const conflicts = (record.conflicts ?? {}) as Raw;
  if (m.name === 'quote.update') {
    const state = conflicts.state;
    return {
      kind: record.code === 'revised' ? 'quote-revised' : 'other',
      subjectId: m.args.id,
      rows: [],
      revisionId: typeof state?.revisionId === 'string' ? state.revisionId : null,
      serverState: typeof state?.server === 'string' ? state.server : null,
      message: record.message,
    };
  }
  if (m.name !== 'opportunity.update' && m.name !== 'opportunity.create') return null;
  const rows = Object.entries(conflicts)
    .filter(([, c]) => c && 'yours' in c)
    .map(([field, c]) => ({ field, label: format.label(field), yours: format.value(field, c!.yours), server: format.value(field, c!.server) }));
  return { kind: rows.length ? 'opportunity' : 'other', subjectId: m.args.id, rows, revisionId: null, serverState: null, message: record.message };
}

/**
 * "Keep mine": the conflicting values again, on the version the device now holds, so they apply
 * (and anything else the person changed with them, such as the lost reason). null when nothing is left to send.
 */
export function keepYours(record: RejectedMutation, current: Pick<Opportunity, 'id' | 'version'> & Partial<Opportunity>): NewMutation | null {
  const m = record.mutation;
  if (m.name !== 'opportunity.update' || !record.conflicts) return null;
  const changes: OpportunityChanges = {};
  const asked = m.args.changes as Record<string, unknown>;
  for (const [field, c] of Object.entries(record.conflicts)) {
    if (!(field in asked)) continue;
    const value = (c as { yours?: unknown }).yours;
    if (current[field as keyof Opportunity] === value) continue; // the server holds it already
    (changes as Record<string, unknown>)[field] = value;
  }
  if (!Object.keys(changes).length) return null;
  if (changes.stage !== undefined && asked.lostReason !== undefined) changes.lostReason = asked.lostReason as string;
  return { name: 'opportunity.update', args: { id: current.id, baseVersion: current.version, changes } };
}
