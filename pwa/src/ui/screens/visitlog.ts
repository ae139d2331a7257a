// A visit: the check-in and the server's verdict (or "pending" until it has synced), and the log —
// purpose, outcome, contacts met, notes, next step, follow-up date, a photo — and the check-out,
// which records how long the visit took. Everything is saved on the device first.
// Photos: kept in IndexedDB and uploaded once the server has the visit and there is a network.
import type { Visit } from '../../api/types';
import type { LocalVisit } from '../../db/db';
import { formatDateTime, t } from '../../i18n';
import { photoProblem, shrinkPhoto } from '../../visits/photo';
import { getPosition } from '../../visits/position';
import { keepPhoto, storeVisits, uploadPhotos } from '../../visits/store';
import { clear, h } from '../dom';
import { field, textArea, textInput } from '../form';
import { href } from '../router';
import type { ScreenFactory } from '../shell';
import { workHref } from '../../work/lazy';
import { distanceText, durationText, flagText, reviewBadge, verdictBadge, verdictHelp } from './visit-bits';

export const visitScreen: ScreenFactory = async (app, route) => {
  if (route.name !== 'visit') throw new Error('wrong route');
  const id = route.id;
  let visit: LocalVisit | undefined = await app.db.get('visits', id);
  if (!visit && navigator.onLine) {
    const result = await app.api.get<Visit>(`/api/visits/${encodeURIComponent(id)}`);
    if (result.ok) {
      await storeVisits(app, [result.data]);
      visit = await app.db.get('visits', id);
    }
  }
  if (!visit) {
    return { el: h('p', { class: 'empty', testid: 'visit-not-found' }, t('visit.notFound')), title: t('visit.title'), back: href.today() };
  }
  const accountId = visit.accountId;
  const contacts = (await app.db.getAllFromIndex('contacts', 'byAccount', accountId)).filter((c) => !c._deleted).sort((x, y) => x.name.localeCompare(y.name));
  const plan = visit.planId ? await app.db.get('plans', visit.planId) : undefined;
  const mine = visit.userId === app.me?.user.id || !!visit._local;
  let alive = true;

  const head = h('section', { class: 'card', testid: 'visit-head' });
  const paintHead = (v: LocalVisit) => {
    clear(
      head,
      h('div', { class: 'visit-row-head' }, h('a', { class: 'card-title', href: href.account(v.accountId) }, v.accountName || t('mutation.unknownAccount')), verdictBadge(v), reviewBadge(v.reviewStatus)),
      v.verdict === 'pending' ? h('p', { class: 'notice', testid: 'visit-pending' }, t('visit.pendingVerdict')) : h('p', { class: 'muted small', testid: 'visit-verdict-help' }, verdictHelp(v)),
      h(
        'dl',
        { class: 'fields' },
        h('dt', null, t('visit.checkedIn')),
        h('dd', null, formatDateTime(v.checkedInAt)),
        h('dt', null, t('visit.by')),
        h('dd', null, v.userName || '—'),
        h('dt', null, t('checkin.distance')),
        h('dd', { testid: 'visit-distance' }, distanceText(v.distanceM)),
        h('dt', null, t('checkin.accuracy')),
        h('dd', null, v.accuracyM === null ? '—' : `± ${distanceText(v.accuracyM)}`),
        h('dt', null, t('visit.duration')),
        h('dd', { testid: 'visit-duration', 'data-s': String(v.durationS ?? '') }, v.checkedOutAt ? durationText(v.durationS) : t('visit.onSite')),
      ),
      v.flags.length
        ? h('ul', { class: 'flags', testid: 'visit-flags' }, v.flags.map((f) => h('li', { testid: 'visit-flag', 'data-code': f.code }, flagText(f))))
        : null,
      v.reviewComment ? h('p', { class: 'muted' }, t('visit.reviewComment', { name: v.reviewedByName ?? '', comment: v.reviewComment })) : null,
    );
  };
  paintHead(visit);

  const purpose = field('visit-purpose', t('visit.purpose'), textInput({ testid: 'visit-purpose', maxlength: 200, value: visit.purpose || plan?.purpose || '' }));
  const outcome = field('visit-outcome', t('visit.outcome'), textArea({ testid: 'visit-outcome', maxlength: 10_000, value: visit.outcome }));
  const chosen = new Set(visit.contactIds);
  const contactBoxes = contacts.map((c) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', testid: 'visit-contact', 'data-id': c.id, value: c.id, checked: chosen.has(c.id) }),
      h('span', null, c.title ? `${c.name} · ${c.title}` : c.name),
    ),
  );
  const notes = field('visit-notes', t('visit.notes'), textArea({ testid: 'visit-notes', maxlength: 10_000, value: visit.notes }));
  const nextStep = field('visit-next-step', t('visit.nextStep'), textInput({ testid: 'visit-next-step', maxlength: 200, value: visit.nextStep }));
  const followUp = field('visit-follow-up', t('visit.followUp'), h('input', { type: 'date', testid: 'visit-follow-up', value: visit.followUpDate ?? '' }));
  const photoInput = h('input', { type: 'file', accept: 'image/jpeg,image/png', capture: 'environment', testid: 'visit-photo', class: 'file' });
  const photo = field('visit-photo', t('visit.photo'), photoInput);
  const photoStatus = h('p', { class: 'muted small', testid: 'visit-photo-status', role: 'status' });
  const photoView = h('div', { class: 'photo-view' });
  const message = h('p', { class: 'form-message', testid: 'visit-form-message', role: 'status', hidden: true });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-block', testid: 'visit-save' }, t('visit.save'));
  const checkout = h('button', { type: 'button', class: 'btn btn-block btn-big', testid: 'visit-checkout', onclick: () => void checkOut() }, t('visit.checkout'));

  const paintPhoto = async () => {
    const waiting = await app.db.get('photos', id);
    const v = (await app.db.get('visits', id)) ?? visit!;
    const state = waiting ? 'waiting' : v.hasPhoto ? 'uploaded' : 'none';
    photoStatus.dataset.state = state;
    photoStatus.textContent = state === 'waiting' ? t('visit.photoWaiting') : state === 'uploaded' ? t('visit.photoUploaded') : '';
    clear(photoView, state === 'uploaded' && navigator.onLine ? h('img', { class: 'photo-thumb', src: `/api/visits/${encodeURIComponent(id)}/photo`, alt: t('visit.photo') }) : null);
  };

  photoInput.addEventListener('change', async () => {
    const file = photoInput.files?.[0];
    if (!file) return;
    photo.setError(undefined);
    const blob = await shrinkPhoto(file);
    const problem = photoProblem(blob);
    if (problem) {
      photo.setError(t(problem === 'type' ? 'visit.photoType' : 'visit.photoSize'));
      return;
    }
    await keepPhoto(app.db, id, blob);
    await paintPhoto();
    if (navigator.onLine) {
      await uploadPhotos(app);
      await paintPhoto();
    }
  });

  const logArgs = () => ({
    visitId: id,
    purpose: purpose.input.value.trim(),
    outcome: outcome.input.value.trim(),
    contactIds: contactBoxes.map((l) => l.querySelector('input')!).filter((i) => i.checked).map((i) => i.value),
    notes: notes.input.value.trim(),
    nextStep: nextStep.input.value.trim(),
    followUpDate: followUp.input.value || null,
  });
  const dirty = (v: LocalVisit) => {
    const a = logArgs();
    return (
      a.purpose !== v.purpose ||
      a.outcome !== v.outcome ||
      a.notes !== v.notes ||
      a.nextStep !== v.nextStep ||
      a.followUpDate !== v.followUpDate ||
      a.contactIds.slice().sort().join() !== v.contactIds.slice().sort().join()
    );
  };

  const saveLog = async (): Promise<boolean> => {
    const current = (await app.db.get('visits', id)) ?? visit!;
    if (!dirty(current)) return false;
    await app.save({ name: 'visit.log', args: logArgs() });
    return true;
  };

  const checkOut = async () => {
    checkout.disabled = true;
    try {
      await saveLog();
      // Where the rep left from, if the phone says so quickly; the check-out does not wait long for it.
      const fix = await getPosition({ enableHighAccuracy: true, maximumAge: 30_000, timeout: 8_000 });
      await app.save({
        name: 'visit.checkout',
        args: fix.ok
          ? { visitId: id, latitude: fix.fix.latitude, longitude: fix.fix.longitude, accuracyM: Math.round(fix.fix.accuracyM * 10) / 10 }
          : { visitId: id },
      });
      app.toast(t('visit.checkedOut'));
      await reload();
    } catch (error) {
      message.textContent = t('form.failed', { message: String(error) });
      message.hidden = false;
      checkout.disabled = false;
    }
  };

  const form = h(
    'form',
    {
      class: 'card form',
      testid: 'visit-form',
      novalidate: true,
      onsubmit: async (event: Event) => {
        event.preventDefault();
        save.disabled = true;
        message.hidden = true;
        try {
          const saved = await saveLog();
          message.textContent = saved ? t('visit.saved') : t('form.noChanges');
          message.hidden = false;
        } catch (error) {
          message.textContent = t('form.failed', { message: String(error) });
          message.hidden = false;
        } finally {
          save.disabled = false;
        }
      },
    },
    h('h2', { class: 'card-title' }, t('visit.log')),
    purpose.row,
    outcome.row,
    h('fieldset', { class: 'contacts-met', testid: 'visit-contacts' }, h('legend', null, t('visit.contacts')), contactBoxes.length ? contactBoxes : h('p', { class: 'muted' }, t('acct.noContacts'))),
    notes.row,
    nextStep.row,
    followUp.row,
    photo.row,
    photoStatus,
    photoView,
    message,
    save,
    h('a', { class: 'btn btn-block', href: workHref.taskNew(visit.accountId), testid: 'visit-add-task' }, t('work.addTask')),
  );

  const reload = async () => {
    const next = await app.db.get('visits', id);
    if (!alive || !next) return;
    visit = next;
    paintHead(next);
    checkout.hidden = !!next.checkedOutAt || !mine;
    checkout.disabled = false;
    await paintPhoto();
  };
  checkout.hidden = !!visit.checkedOutAt || !mine;
  if (!mine) for (const el of form.querySelectorAll('input, textarea, button')) (el as HTMLInputElement).disabled = true;
  await paintPhoto();

  // Online: the server's copy (verdict, flags, review) replaces the one here unless changes wait.
  if (navigator.onLine && !visit._local) {
    void app.api.get<Visit>(`/api/visits/${encodeURIComponent(id)}`).then(async (result) => {
      if (!result.ok || !alive) return;
      await storeVisits(app, [result.data]);
      await reload();
    });
  }

  return {
    el: h('div', { class: 'stack', testid: 'visit-screen', 'data-id': id }, head, checkout, form),
    title: t('visit.title'),
    back: href.account(accountId),
    refresh: reload,
    destroy() {
      alive = false;
    },
  };
};
