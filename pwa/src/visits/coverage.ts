// An account's coverage status on the device, by the server's rule (analytics/coverage.py): never
// visited; overdue past its tier's visit interval; due soon in the interval's last quarter; else
// covered. The intervals are the server's defaults (A 14, B 30, C 90 days) unless told otherwise.
import type { CoverageStatus } from '../api/types';
import { addDays } from './store';

export type Targets = Record<'A' | 'B' | 'C', number>;
export const DEFAULT_TARGETS: Targets = { A: 14, B: 30, C: 90 };

export function coverageStatus(tier: string | null | undefined, lastVisitedOn: string | null | undefined, today: string, targets: Targets = DEFAULT_TARGETS): CoverageStatus {
  if (!lastVisitedOn) return 'never';
  const days = targets[(tier === 'A' || tier === 'B' ? tier : 'C') as keyof Targets];
  const overdueBefore = addDays(today, -days);
  const dueFrom = addDays(today, -(days - Math.ceil(days / 4)));
  if (lastVisitedOn < overdueBefore) return 'overdue';
  return lastVisitedOn < dueFrom ? 'due_soon' : 'covered';
}
