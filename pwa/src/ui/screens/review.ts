// The review queue (leaders): check-ins the server flagged, with the flags in words, the distance
// and the accuracy; accept or reject with a comment in two taps (a ready-made comment, then the
// decision). Below, locations proposed for accounts without one: confirm or reject. Online only —
// a decision is the server's record, made once.
import type { LocationProposal, LocationProposalPage, Visit, VisitPage } from '../../api/types';
import { formatDateTime, t, type MsgKey } from '../../i18n';
import { clear, h } from '../dom';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import { distanceText, flagText, verdictBadge, verdictHelp } from './visit-bits';

const QUICK_COMMENTS: MsgKey[] = ['review.quick.confirmed', 'review.quick.gpsIndoor', 'review.quick.notThere', 'review.quick.askRep'];

/** A server message as a sentence (it starts lower-case). */
function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?。]$/.test(text) ? '' : '.');
}

export const reviewScreen: ScreenFactory = async (app) => {
  if (!app.can('visits.review')) {
    // A rep who opens #/review (an old link, a typed address): what this is and where their own check-ins are.
    return { el: h('div', { class: 'stack', testid: 'review-screen' }, h('p', { class: 'notice', testid: 'review-forbidden' }, t('review.forbidden')), h('a', { class: 'btn', href: href.today() }, t('nav.today'))), title: t('review.title') };
  }
  const visits = h('ul', { class: 'plain-list stack', testid: 'review-list' });
  const proposals = h('ul', { class: 'plain-list stack', testid: 'proposal-list' });
  const status = h('p', { class: 'muted', testid: 'review-status', role: 'status' });
  let alive = true;

  const problem = (r: { ok: false; status: number; problem: { detail?: string } | null }) =>
    r.status === 0 ? t('review.offline') : r.status === 403 ? t('review.forbidden') : sentence(r.problem?.detail ?? `HTTP ${r.status}`);

  const reviewItem = (v: Visit) => {
    // A rejection must say why (the server refuses one without): the field says so, and so does the screen before sending.
    const errorId = `review-error-${v.id}`;
    const comment = h('input', { type: 'text', class: 'review-comment', testid: 'review-comment', maxlength: 2000, placeholder: t('review.commentReject'), 'aria-label': t('review.commentReject'), 'aria-describedby': errorId });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true, id: errorId, testid: 'review-error' });
    const decide = async (decision: 'accept' | 'reject', buttons: HTMLButtonElement[]) => {
      error.hidden = true;
      comment.removeAttribute('aria-invalid');
      if (decision === 'reject' && !comment.value.trim()) {
        error.textContent = t('review.rejectNeedsComment');
        error.hidden = false;
        comment.setAttribute('aria-invalid', 'true');
        comment.focus();
        return;
      }
      buttons.forEach((b) => (b.disabled = true));
      const result = await app.api.post<Visit>(`/api/visits/${encodeURIComponent(v.id)}/review`, { decision, comment: comment.value.trim() });
      if (result.ok) {
        app.toast(t(decision === 'accept' ? 'review.accepted' : 'review.rejected'));
        item.remove();
        if (!visits.querySelector('[data-testid="review-item"]')) visits.append(h('li', { class: 'empty', testid: 'review-empty' }, t('review.empty')));
      } else {
        error.textContent = problem(result);
        error.hidden = false;
        buttons.forEach((b) => (b.disabled = false));
      }
    };
    const accept = h('button', { type: 'button', class: 'btn btn-primary', testid: 'review-accept' }, t('review.accept'));
    const reject = h('button', { type: 'button', class: 'btn btn-danger-outline', testid: 'review-reject' }, t('review.reject'));
    accept.addEventListener('click', () => void decide('accept', [accept, reject]));
    reject.addEventListener('click', () => void decide('reject', [accept, reject]));
    const item = h(
      'li',
      { class: 'card review-item', testid: 'review-item', 'data-id': v.id },
      h('div', { class: 'visit-row-head' }, h('a', { class: 'card-title', href: href.visit(v.id) }, v.accountName), verdictBadge(v, 'review-verdict')),
      h('p', { class: 'muted small' }, `${v.userName} · ${formatDateTime(v.checkedInAt)}`),
      h(
        'dl',
        { class: 'fields' },
        h('dt', null, t('checkin.distance')),
        h('dd', { testid: 'review-distance' }, distanceText(v.distanceM)),
        h('dt', null, t('checkin.accuracy')),
        h('dd', null, v.accuracyM === null ? t('review.noLocation') : `± ${distanceText(v.accuracyM)}`),
      ),
      h('p', { class: 'small' }, verdictHelp(v)),
      v.flags.length ? h('ul', { class: 'flags' }, v.flags.map((f) => h('li', { testid: 'review-flag', 'data-code': f.code }, flagText(f)))) : null,
      h(
        'div',
        { class: 'chips' },
        QUICK_COMMENTS.map((key) =>
          h(
            'button',
            {
              type: 'button',
              class: 'chip',
              testid: 'review-chip',
              onclick: () => {
                comment.value = t(key);
              },
            },
            t(key),
          ),
        ),
      ),
      comment,
      error,
      h('div', { class: 'row review-actions' }, accept, reject),
    );
    return item;
  };

  const proposalItem = (p: LocationProposal) => {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const decide = async (decision: 'confirm' | 'reject') => {
      confirm.disabled = reject.disabled = true;
      const result = await app.api.post<LocationProposal>(`/api/location-proposals/${encodeURIComponent(p.id)}/decision`, { decision, comment: '' });
      if (result.ok) {
        app.toast(t(decision === 'confirm' ? 'proposal.confirmed' : 'proposal.rejected'));
        item.remove();
      } else {
        error.textContent = problem(result);
        error.hidden = false;
        confirm.disabled = reject.disabled = false;
      }
    };
    const confirm = h('button', { type: 'button', class: 'btn btn-primary', testid: 'proposal-confirm', onclick: () => void decide('confirm') }, t('proposal.confirm'));
    const reject = h('button', { type: 'button', class: 'btn btn-danger-outline', testid: 'proposal-reject', onclick: () => void decide('reject') }, t('proposal.reject'));
    const item = h(
      'li',
      { class: 'card', testid: 'proposal-item', 'data-id': p.id },
      h('a', { class: 'card-title', href: href.account(p.accountId) }, p.accountName),
      h('p', { class: 'muted small' }, t('proposal.by', { name: p.proposedByName, date: formatDateTime(p.createdAt) })),
      h('p', null, `${p.latitude.toFixed(5)}, ${p.longitude.toFixed(5)} · ± ${distanceText(p.accuracyM)}`),
      error,
      h('div', { class: 'row' }, confirm, reject),
    );
    return item;
  };

  const load = async () => {
    status.textContent = t('review.loading');
    const [queue, props] = await Promise.all([
      app.api.get<VisitPage>('/api/visits/review?limit=100'),
      app.api.get<LocationProposalPage>('/api/location-proposals?status=pending&limit=100'),
    ]);
    if (!alive) return;
    status.textContent = queue.ok ? t('review.count', { n: queue.data.total }) : problem(queue);
    status.dataset.count = queue.ok ? String(queue.data.total) : '';
    clear(visits, queue.ok ? (queue.data.items.length ? queue.data.items.map(reviewItem) : h('li', { class: 'empty', testid: 'review-empty' }, t('review.empty'))) : null);
    clear(
      proposals,
      props.ok ? (props.data.items.length ? props.data.items.map(proposalItem) : h('li', { class: 'muted', testid: 'proposal-empty' }, t('proposal.empty'))) : h('li', { class: 'muted' }, problem(props)),
    );
  };
  await load();

  return {
    el: h(
      'div',
      { class: 'stack', testid: 'review-screen' },
      h('div', { class: 'row between' }, status, h('button', { type: 'button', class: 'btn btn-small', testid: 'review-reload', onclick: () => void load() }, t('review.reload'))),
      visits,
      h('h2', { class: 'section-title' }, t('proposal.title')),
      proposals,
    ),
    title: t('review.title'),
    destroy() {
      alive = false;
    },
  };
};
