// Small pieces the field-work screens share: verdict badges, flags in words, distances, durations.
import type { Flag } from '../../api/types';
import type { LocalVisit } from '../../db/db';
import { formatDateTime, getLocale, hasKey, t } from '../../i18n';
import { formatDistance } from '../../visits/geo';
import { h } from '../dom';
import { href } from '../router';

export function distanceText(m: number | null | undefined): string {
  return formatDistance(m, { m: t('unit.m'), km: t('unit.km') }, getLocale());
}

/** "1 h 05 min", "12 min", "40 s". */
export function durationText(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return t('duration.s', { n: Math.round(seconds) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return t('duration.min', { n: minutes });
  return t('duration.h', { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, '0') });
}

type Judged = Pick<LocalVisit, 'verdict' | 'reviewStatus' | 'flags'>;

/** In range, but flagged (impossible travel, a clock off…) and waiting for a manager: not "Verified". */
export function isFlaggedInRange(v: Judged): boolean {
  return v.verdict === 'verified' && v.reviewStatus === 'pending' && v.flags.length > 0;
}

/** The verdict in words; given the whole visit, a flagged one in range says so instead of "Verified". */
export function verdictBadge(visit: LocalVisit['verdict'] | Judged, testid = 'visit-verdict'): HTMLElement {
  const v = typeof visit === 'string' ? null : visit;
  const verdict = typeof visit === 'string' ? visit : visit.verdict;
  if (v && isFlaggedInRange(v)) {
    return h('span', { class: 'badge verdict verdict-flagged', testid, 'data-verdict': verdict, 'data-flagged': 'true' }, t('verdict.flagged'));
  }
  return h('span', { class: `badge verdict verdict-${verdict}`, testid, 'data-verdict': verdict }, t(`verdict.${verdict}`));
}

/** The verdict's explanation, matching the badge. */
export function verdictHelp(v: Judged): string {
  return isFlaggedInRange(v) ? t('verdictHelp.flagged') : v.verdict === 'pending' ? t('visit.pendingVerdict') : t(`verdictHelp.${v.verdict}`);
}

/** A flag in words a manager can act on (the server's detail adds the numbers). */
export function flagText(flag: Flag): string {
  const key = `flag.${flag.code}`;
  // A flag a newer server knows and this version does not shows its code.
  const words = hasKey(key) ? t(key) : flag.code;
  return flag.detail ? `${words} — ${flag.detail}` : words;
}

export function reviewBadge(status: LocalVisit['reviewStatus']): HTMLElement | null {
  if (status === 'none') return null;
  return h('span', { class: `badge review-${status}`, testid: 'visit-review-status', 'data-status': status }, t(`reviewStatus.${status}`));
}

/** One visit in a list (the account 360's history, today's recent visits). */
export function visitRow(v: LocalVisit, testid: string, showAccount: boolean): HTMLElement {
  return h(
    'li',
    { class: 'visit-row', testid, 'data-id': v.id, 'data-verdict': v.verdict },
    h(
      'a',
      { class: 'visit-row-link', href: href.visit(v.id) },
      h(
        'div',
        { class: 'visit-row-head' },
        h('strong', null, showAccount ? v.accountName || t('mutation.unknownAccount') : formatDateTime(v.checkedInAt)),
        verdictBadge(v, `${testid}-verdict`),
        reviewBadge(v.reviewStatus),
        v._pending || v._local ? h('span', { class: 'badge badge-pending' }, t('acct.pending')) : null,
      ),
      h(
        'div',
        { class: 'muted small' },
        [showAccount ? formatDateTime(v.checkedInAt) : '', v.userName, v.durationS !== null ? durationText(v.durationS) : '']
          .filter(Boolean)
          .join(' · '),
      ),
      v.flags.length ? h('div', { class: 'warn small' }, v.flags.map((f) => t(`flag.${f.code}`)).join(' · ')) : null,
      v.outcome ? h('p', { class: 'visit-row-outcome' }, v.outcome) : null,
    ),
  );
}
