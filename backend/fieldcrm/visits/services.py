"""Use cases of field work: plan visits, check in and out, log visits, review doubtful check-ins, pin accounts.

A check-in is judged when it reaches the server (visits/verification.py), whether it was sent at once
or queued offline for hours: the phone's clock is corrected by the skew measured at sending. Every
check-in is kept; anything short of a clean verified one waits for a manager's review. The account's
last counted visit (``accounts.last_visited_on``) is kept up to date on every write, so coverage never
scans the visits.
"""

import datetime
import functools
import hashlib
import json
import uuid
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fieldcrm.accounts import services as accounts
from fieldcrm.accounts import timeline
from fieldcrm.accounts.schemas import TimelineItem
from fieldcrm.accounts.tables import Contact as ContactRow
from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_date, as_uuid, read_transaction, required, write_transaction
from fieldcrm.lib.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.settings import get_settings
from fieldcrm.tasks import services as tasks
from fieldcrm.visits import photos, routing
from fieldcrm.visits.schemas import (
    CheckinCreate,
    CheckoutCreate,
    DayPlan,
    Flag,
    LocationProposal,
    LocationProposalPage,
    ProposalDecision,
    ReviewDecision,
    Visit,
    VisitLogPut,
    VisitPage,
    VisitPlan,
    VisitPlanCreate,
    VisitPlanPage,
    VisitPlanPatch,
)
from fieldcrm.visits.tables import LocationProposal as ProposalRow
from fieldcrm.visits.tables import Visit as VisitRow
from fieldcrm.visits.tables import VisitPlan as PlanRow
from fieldcrm.visits.verification import Claim, Previous, Site, Thresholds, judge, pair_flags, repeated_flag

PHOTO_MAX_BYTES = 5 * 1024 * 1024
_PHOTO_TYPES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
_FOLLOW_UP = uuid.UUID("3f1c9a52-8d0e-4c61-9a57-1b2f3e4d5c6b")  # namespace of follow-up plan ids


# ---------------------------------------------------------------- time


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def business_day(moment: datetime.datetime) -> datetime.date:
    """The calendar day of a moment in the business time zone (``FIELDCRM_TIMEZONE``)."""
    return moment.astimezone(_zone(get_settings().timezone)).date()


def business_today() -> datetime.date:
    """Today in the business time zone."""
    return business_day(utcnow())


def _aware(value: datetime.datetime) -> datetime.datetime:
    """A time the phone sent, as UTC; a time without a zone is taken as UTC."""
    return value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value.astimezone(datetime.UTC)


# ---------------------------------------------------------------- row -> struct

_VISIT_COLUMNS = (
    *VisitRow.all_columns(),
    VisitRow.account.name.as_alias("account_name"),
    VisitRow.user.display_name.as_alias("user_name"),
    VisitRow.reviewed_by.display_name.as_alias("reviewed_by_name"),
)


def _json_list(value: Any) -> list[Any]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value or [])


def visit_out(row: Mapping[str, Any]) -> Visit:
    """A visit row (selected with _VISIT_COLUMNS) as its API shape."""
    return Visit(
        id=row["id"],
        account_id=row["account"],
        account_name=row["account_name"] or "",
        user_id=row["user"],
        user_name=row["user_name"] or "",
        plan_id=uuid.UUID(row["plan_id"]) if row["plan_id"] else None,
        latitude=row["latitude"],
        longitude=row["longitude"],
        accuracy_m=row["accuracy_m"],
        fix_at=row["fix_at"],
        device_at=row["device_at"],
        received_at=row["received_at"],
        checked_in_at=row["checked_in_at"],
        clock_skew_s=row["clock_skew_s"],
        distance_m=None if row["distance_m"] is None else round(row["distance_m"], 1),
        verdict=row["verdict"],
        flags=[Flag(code=f["code"], detail=f["detail"]) for f in _json_list(row["flags"])],
        counts_for_coverage=bool(row["counts_for_coverage"]),
        review_status=row["review_status"],
        review_comment=row["review_comment"],
        reviewed_by_name=row["reviewed_by_name"],
        reviewed_at=row["reviewed_at"],
        checked_out_at=row["checked_out_at"],
        duration_s=row["duration_s"],
        purpose=row["purpose"],
        outcome=row["outcome"],
        contact_ids=[uuid.UUID(str(c)) for c in _json_list(row["contact_ids"])],
        notes=row["notes"],
        next_step=row["next_step"],
        follow_up_date=as_date(row["follow_up_date"]) if row["follow_up_date"] else None,
        has_photo=row["photo_sha256"] is not None,
        photo_sha256=row["photo_sha256"],
    )


def _visit_scope(actor: Actor) -> list[Any]:
    """Visits are seen by whoever sees their account."""
    where: list[Any] = [VisitRow.account.deleted_at.is_null()]
    owner = scope.owner_filter(actor, VisitRow.account.owner)
    if owner is not None:
        where.append(owner)
    return where


async def _visit_row(actor: Actor, visit_id: uuid.UUID) -> dict[str, Any]:
    row = await VisitRow.select(*_VISIT_COLUMNS).where(VisitRow.id == visit_id, *_visit_scope(actor)).first()
    if row is None:
        msg = f"visit {visit_id} not found"
        raise NotFound(msg)
    return row


async def _own_visit_row(actor: Actor, visit_id: uuid.UUID, doing: str) -> dict[str, Any]:
    row = await _visit_row(actor, visit_id)
    if as_uuid(row["user"]) != actor.id:
        msg = f"only {row['user_name']}, who checked in, can {doing} this visit"
        raise Forbidden(msg)
    return row


async def _reload(visit_id: uuid.UUID) -> Visit:
    return visit_out(required(await VisitRow.select(*_VISIT_COLUMNS).where(VisitRow.id == visit_id).first()))


# ---------------------------------------------------------------- check-in


def _timestamp(value: Any) -> datetime.datetime:
    """A timestamp from a raw query (a string on SQLite when the column type is not declared to the driver)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return _aware(value)


async def _uncount(visit_ids: Sequence[uuid.UUID]) -> None:
    """Take visits out of coverage (a flag arrived later) and put the accounts' last visit day right."""
    rows = await VisitRow.select(VisitRow.id, VisitRow.account).where(
        VisitRow.id.is_in(list(visit_ids)), VisitRow.counts_for_coverage.eq(True)
    )
    if not rows:
        return
    await VisitRow.update({VisitRow.counts_for_coverage: False}).where(VisitRow.id.is_in([r["id"] for r in rows]))
    for account_id in {as_uuid(r["account"]) for r in rows}:
        await _recount_account(account_id)


async def _recount_account(account_id: uuid.UUID) -> None:
    last = await (
        VisitRow.select(VisitRow.checked_in_on)
        .where(VisitRow.account == account_id, VisitRow.counts_for_coverage.eq(True))
        .order_by(VisitRow.checked_in_on, ascending=False)
        .first()
    )
    await accounts.reset_visit_day(account_id=account_id, on=as_date(last["checked_in_on"]) if last else None)


async def _repeats(
    visit_id: uuid.UUID, claim: Claim, account_id: uuid.UUID, day: datetime.date
) -> list[dict[str, Any]]:
    """Other check-ins at exactly these coordinates on another day or at another account."""
    return list(
        await VisitRow.raw(
            "SELECT id, flags, review_status FROM visits WHERE latitude = {} AND longitude = {} AND id <> {} "
            "AND (checked_in_on <> {} OR account <> {})",
            claim.latitude,
            claim.longitude,
            visit_id,
            day,
            account_id,
        )
    )


async def _flag_repeats(others: list[dict[str, Any]]) -> None:
    """Earlier check-ins at the same coordinates are just as doubtful: flag them too and send them to review."""
    for other in others:
        flags = [f for f in _json_list(other["flags"]) if f["code"] != "repeated_coordinates"]
        flags.append(repeated_flag(len(others)))
        values: dict[Any, Any] = {VisitRow.flags: json.dumps(flags), VisitRow.updated_at: utcnow()}
        if other["review_status"] == "none":
            values[VisitRow.review_status] = "pending"
        await VisitRow.update(values).where(VisitRow.id == other["id"])
    await _uncount([as_uuid(o["id"]) for o in others])


async def _open_plan(
    actor: Actor, plan_id: uuid.UUID | None, account_id: uuid.UUID, day: datetime.date
) -> uuid.UUID | None:
    """The plan a visit fulfils: the one named (the actor's, for this account), else the day's open one."""
    if plan_id is not None:
        rows = await PlanRow.raw(
            "SELECT id FROM visit_plans WHERE id = {} AND owner = {} AND account = {} AND deleted_at IS NULL",
            plan_id,
            actor.id,
            account_id,
        )
        if not rows:
            msg = f"plan {plan_id} is not one of your plans for this account"
            raise InvalidInput(msg, field="planId")
    else:
        rows = await PlanRow.raw(
            "SELECT id FROM visit_plans WHERE owner = {} AND account = {} AND date = {} AND status = 'planned' "
            "AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
            actor.id,
            account_id,
            day,
        )
    return as_uuid(rows[0]["id"]) if rows else None


async def _context(
    actor: Actor, account_id: uuid.UUID, visit_id: uuid.UUID, claim: Claim, day: datetime.date
) -> dict[str, Any]:
    """What judging a check-in needs, in one read.

    The account (if the actor sees it; 404 as for a missing one) with its pin, radius and last counted
    visit; the person's previous located check-in; how many check-ins share these exact coordinates on
    another day or at another account.
    """
    scoped, args = scope.owner_sql(actor, "a.owner")
    sql = (
        "SELECT a.name, a.latitude, a.longitude, a.visit_radius_m, a.last_visited_on, "  # noqa: S608 - bound values
        "p.id AS p_id, p.latitude AS p_latitude, p.longitude AS p_longitude, p.accuracy_m AS p_accuracy, "
        "p.checked_in_at AS p_at, "
        "(SELECT COUNT(*) FROM visits r WHERE r.latitude = {} AND r.longitude = {} AND r.id <> {} "
        "AND (r.checked_in_on <> {} OR r.account <> {})) AS repeats "
        "FROM accounts a LEFT JOIN (SELECT id, latitude, longitude, accuracy_m, checked_in_at FROM visits "
        'WHERE "user" = {} AND checked_in_at <= {} AND latitude IS NOT NULL AND id <> {} '
        "ORDER BY checked_in_at DESC LIMIT 1) p "
        f"ON 1 = 1 WHERE a.id = {{}} AND a.deleted_at IS NULL AND {scoped}"
    )
    rows = await VisitRow.raw(
        sql, claim.latitude, claim.longitude, visit_id, day, account_id, actor.id, claim.at, visit_id, account_id, *args
    )
    if not rows:
        msg = f"account {account_id} not found"
        raise NotFound(msg)
    return dict(rows[0])


def _previous_of(context: Mapping[str, Any]) -> Previous | None:
    if context["p_latitude"] is None:
        return None
    return Previous(
        context["p_latitude"],
        context["p_longitude"],
        context["p_accuracy"] or 0.0,
        _timestamp(context["p_at"]),
        as_uuid(context["p_id"]),
    )


async def _following(user_id: uuid.UUID, visit_id: uuid.UUID, at: datetime.datetime) -> Previous | None:
    """The person's first located check-in after ``at`` (by fix time): one that arrived before this one."""
    row = await (
        VisitRow.select(VisitRow.id, VisitRow.latitude, VisitRow.longitude, VisitRow.accuracy_m, VisitRow.checked_in_at)
        .where(
            VisitRow.user == user_id,
            VisitRow.checked_in_at > at,
            VisitRow.latitude.is_not_null(),
            VisitRow.id != visit_id,
        )
        .order_by(VisitRow.checked_in_at)
        .first()
    )
    if row is None:
        return None
    at_ = _timestamp(row["checked_in_at"])
    return Previous(row["latitude"], row["longitude"], row["accuracy_m"] or 0.0, at_, as_uuid(row["id"]))


async def _flag_pair(pairs: list[tuple[Previous, dict[str, str]]]) -> None:
    """The other end of an impossible pair is just as doubtful: flag it, send it to review, take it out of coverage."""
    for other, flag in pairs:
        row = await VisitRow.select(VisitRow.flags, VisitRow.review_status).where(VisitRow.id == other.id).first()
        if row is None:
            continue
        flags = _json_list(row["flags"])
        if flag not in flags:
            flags.append(flag)
        values: dict[Any, Any] = {VisitRow.flags: json.dumps(flags), VisitRow.updated_at: utcnow()}
        if row["review_status"] == "none":
            values[VisitRow.review_status] = "pending"
        await VisitRow.update(values).where(VisitRow.id == other.id)
    await _uncount([other.id for other, _ in pairs if other.id is not None])


async def _propose_location(actor: Actor, visit_id: uuid.UUID, account_id: uuid.UUID, claim: Claim) -> None:
    pending = await ProposalRow.exists().where(ProposalRow.account == account_id, ProposalRow.status == "pending")
    if pending:
        return
    await ProposalRow.insert(
        ProposalRow(
            id=new_id(),
            account=account_id,
            visit=visit_id,
            proposed_by=actor.id,
            latitude=claim.latitude,
            longitude=claim.longitude,
            accuracy_m=claim.accuracy_m,
        )
    )


async def check_in(
    *, actor: Actor, data: CheckinCreate, received_at: datetime.datetime | None = None
) -> tuple[Visit, bool]:
    """Record a check-in and judge it; the same id again returns the visit already made (created False).

    The reads that judge it (the account's pin, the person's previous check-in, identical coordinates)
    run before the write transaction, so the writer is held only for the few statements that write.
    """
    scope.require(actor, "visits.checkin")
    settings = get_settings()
    received = received_at or utcnow()
    device_at = _aware(data.device_at)
    sent_at = _aware(data.sent_at) if data.sent_at else device_at
    claim = Claim(
        latitude=data.latitude,
        longitude=data.longitude,
        accuracy_m=data.accuracy_m,
        fix_at=_aware(data.fix_at) if data.fix_at else None,
        device_at=device_at,
        skew_s=(sent_at - received).total_seconds(),
    )
    if (data.latitude is None) != (data.longitude is None):
        msg = "give latitude and longitude together, or neither"
        raise InvalidInput(msg, field="latitude" if data.latitude is None else "longitude")
    at = claim.at
    day = business_day(at)
    site_row = await _context(actor, data.account_id, data.id, claim, day)
    site = Site(site_row["latitude"], site_row["longitude"], site_row["visit_radius_m"])
    limits = Thresholds.from_settings(settings)
    previous, following = _previous_of(site_row), await _following(actor.id, data.id, at)
    judgement = judge(claim, site, previous, limits, following)
    pairs = pair_flags(claim, previous, following, limits)
    repeats = await _repeats(data.id, claim, data.account_id, day) if site_row["repeats"] else []
    if repeats:
        judgement.flags.append(repeated_flag(len(repeats)))
    counts = not judgement.needs_review
    plan_id = await _open_plan(actor, data.plan_id, data.account_id, day)
    async with write_transaction():
        row: dict[str, Any] = {
            "id": data.id,
            "account": data.account_id,
            "user": actor.id,
            "plan_id": str(plan_id) if plan_id else None,
            "latitude": data.latitude,
            "longitude": data.longitude,
            "accuracy_m": data.accuracy_m,
            "fix_at": claim.fix_at,
            "device_at": device_at,
            "sent_at": sent_at,
            "received_at": received,
            "checked_in_at": at,
            "checked_in_on": day,
            "clock_skew_s": round(claim.skew_s, 3),
            "distance_m": judgement.distance_m,
            "verdict": judgement.verdict,
            "flags": json.dumps(judgement.flags),
            "counts_for_coverage": counts,
            "review_status": "pending" if judgement.needs_review else "none",
        }
        # The same id again (a retry, a replayed queue) inserts nothing and answers with the visit made.
        inserted = await VisitRow.insert(VisitRow(**row)).on_conflict(action="DO NOTHING").returning(VisitRow.id)
        if not inserted:
            existing = required(await VisitRow.select(VisitRow.user).where(VisitRow.id == data.id).first())
            if as_uuid(existing["user"]) != actor.id:
                msg = f"visit {data.id} already exists"
                raise Conflict(msg)
            return await _reload(data.id), False
        if plan_id is not None:
            await PlanRow.update(
                {PlanRow.status: "done", PlanRow.visit_id: str(data.id), PlanRow.updated_at: utcnow()}
            ).where(PlanRow.id == plan_id)
        if repeats:
            await _flag_repeats(repeats)
        if pairs:
            await _flag_pair(pairs)
        last = site_row["last_visited_on"]
        if counts and (last is None or as_date(last) < day):
            await accounts.record_visit_day(account_id=data.account_id, on=day)
        good_fix = claim.located and (data.accuracy_m or 1e9) <= settings.checkin_propose_accuracy_m
        if site.latitude is None and good_fix:
            await _propose_location(actor, data.id, data.account_id, claim)
    return visit_out(_new_visit(row, site_row["name"], actor.display_name)), True


def _new_visit(row: dict[str, Any], account_name: str, user_name: str) -> dict[str, Any]:
    """The row just inserted, with the defaults of what a check-in does not set, as visit_out reads it."""
    return {
        **row,
        "account_name": account_name,
        "user_name": user_name,
        "review_comment": "",
        "reviewed_by_name": None,
        "reviewed_at": None,
        "checked_out_at": None,
        "duration_s": None,
        "purpose": "",
        "outcome": "",
        "contact_ids": "[]",
        "notes": "",
        "next_step": "",
        "follow_up_date": None,
        "photo_sha256": None,
    }


async def check_out(
    *, actor: Actor, visit_id: uuid.UUID, data: CheckoutCreate, received_at: datetime.datetime | None = None
) -> Visit:
    """Leave the site; the duration is measured on the server's clock. A second check-out changes nothing."""
    scope.require(actor, "visits.checkin")
    received = received_at or utcnow()
    device_at = _aware(data.device_at)
    skew = ((_aware(data.sent_at) if data.sent_at else device_at) - received).total_seconds()
    async with write_transaction():
        row = await _own_visit_row(actor, visit_id, "check out of")
        if row["checked_out_at"] is not None:
            return visit_out(row)
        left = device_at - datetime.timedelta(seconds=skew)
        duration = int((left - row["checked_in_at"]).total_seconds())
        if duration < 0:
            msg = "the check-out is earlier than the check-in; check the phone's clock"
            raise InvalidInput(msg, field="deviceAt")
        await VisitRow.update(
            {
                VisitRow.checked_out_at: left,
                VisitRow.checkout_latitude: data.latitude,
                VisitRow.checkout_longitude: data.longitude,
                VisitRow.duration_s: duration,
                VisitRow.updated_at: utcnow(),
            }
        ).where(VisitRow.id == visit_id)
        return await _reload(visit_id)


async def put_log(*, actor: Actor, visit_id: uuid.UUID, data: VisitLogPut) -> Visit:
    """Write what happened; a follow-up date plans the next visit (one plan per visit, moved if the date changes)."""
    scope.require(actor, "visits.checkin")
    async with write_transaction():
        row = await _own_visit_row(actor, visit_id, "log")
        account_id = as_uuid(row["account"])
        if data.contact_ids:
            found = await ContactRow.select(ContactRow.id).where(
                ContactRow.id.is_in(list(data.contact_ids)),
                ContactRow.account == account_id,
                ContactRow.deleted_at.is_null(),
            )
            missing = set(data.contact_ids) - {as_uuid(r["id"]) for r in found}
            if missing:
                msg = f"{len(missing)} of the contacts met are not contacts of {row['account_name']}"
                raise InvalidInput(msg, field="contactIds")
        if data.follow_up_date is not None and data.follow_up_date < as_date(row["checked_in_on"]):
            msg = "the follow-up date is before the visit"
            raise InvalidInput(msg, field="followUpDate")
        await VisitRow.update(
            {
                VisitRow.purpose: data.purpose,
                VisitRow.outcome: data.outcome,
                VisitRow.contact_ids: json.dumps([str(c) for c in data.contact_ids]),
                VisitRow.notes: data.notes,
                VisitRow.next_step: data.next_step,
                VisitRow.follow_up_date: data.follow_up_date,
                VisitRow.updated_at: utcnow(),
            }
        ).where(VisitRow.id == visit_id)
        await _follow_up(actor, visit_id, account_id, data)
        if data.follow_up_date is not None:  # the follow-up is also on the rep's task list
            title = data.next_step or data.purpose or row["account_name"]
            await tasks.follow_up_from_visit(
                actor=actor, visit_id=visit_id, account_id=account_id, title=title, due_date=data.follow_up_date
            )
        return await _reload(visit_id)


async def _follow_up(actor: Actor, visit_id: uuid.UUID, account_id: uuid.UUID, data: VisitLogPut) -> None:
    plan_id = uuid.uuid5(_FOLLOW_UP, str(visit_id))
    plan = await PlanRow.select(PlanRow.id, PlanRow.status).where(PlanRow.id == plan_id).first()
    purpose = data.next_step or data.purpose
    if data.follow_up_date is None:
        if plan is not None and plan["status"] == "planned":
            await PlanRow.update({PlanRow.status: "cancelled", PlanRow.updated_at: utcnow()}).where(
                PlanRow.id == plan_id
            )
        return
    if plan is None:
        await PlanRow.insert(
            PlanRow(
                id=plan_id,
                account=account_id,
                owner=actor.id,
                created_by=actor.id,
                date=data.follow_up_date,
                purpose=purpose,
            )
        )
    elif plan["status"] != "done":
        await PlanRow.update(
            {PlanRow.date: data.follow_up_date, PlanRow.purpose: purpose, PlanRow.status: "planned"}
        ).where(PlanRow.id == plan_id)


# ---------------------------------------------------------------- photo


def _media_path(sha256: str) -> Path:
    return Path(get_settings().media_dir) / sha256[:2] / sha256


async def put_photo(*, actor: Actor, visit_id: uuid.UUID, content: bytes, content_type: str) -> Visit:
    """Attach a JPEG or PNG (5 MB at most), re-encoded without metadata, stored outside the database by its SHA-256."""
    scope.require(actor, "visits.checkin")
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in _PHOTO_TYPES:
        msg = f"a photo must be image/jpeg or image/png, not {kind or 'unspecified'}"
        raise InvalidInput(msg, field="Content-Type")
    if len(content) > PHOTO_MAX_BYTES:
        msg = f"a photo may be at most {PHOTO_MAX_BYTES // (1024 * 1024)} MB; this one is {len(content) / 1e6:.1f} MB"
        raise PayloadTooLarge(msg)
    if not content.startswith(_PHOTO_TYPES[kind]):
        msg = f"the file is not a {kind.removeprefix('image/').upper()} image"
        raise InvalidInput(msg, field="body")
    content = await photos.reencode(content, kind)  # only the pixels are kept: no trailing bytes, no EXIF
    digest = hashlib.sha256(content).hexdigest()
    path = _media_path(digest)
    async with write_transaction():
        await _own_visit_row(actor, visit_id, "add a photo to")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{uuid.uuid4().hex}.part")
            partial.write_bytes(content)
            partial.replace(path)  # atomic: a reader never sees half a photo
        await VisitRow.update(
            {VisitRow.photo_sha256: digest, VisitRow.photo_type: kind, VisitRow.updated_at: utcnow()}
        ).where(VisitRow.id == visit_id)
        return await _reload(visit_id)


async def photo(*, actor: Actor, visit_id: uuid.UUID) -> tuple[Path, str]:
    """The photo's file and media type."""
    scope.require(actor, "visits.read")
    row = await _visit_row(actor, visit_id)
    if row["photo_sha256"] is None or not _media_path(row["photo_sha256"]).exists():
        msg = "this visit has no photo"
        raise NotFound(msg)
    return _media_path(row["photo_sha256"]), row["photo_type"]


# ---------------------------------------------------------------- reading and reviewing


async def get_visit(*, actor: Actor, visit_id: uuid.UUID) -> Visit:
    """One visit the actor may see."""
    scope.require(actor, "visits.read")
    return visit_out(await _visit_row(actor, visit_id))


async def list_visits(
    *,
    actor: Actor,
    page: PageParams,
    account_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    verdict: str | None = None,
    review: str | None = None,
) -> VisitPage:
    """Visits the actor sees, newest first."""
    scope.require(actor, "visits.read")
    if review == "pending":
        scope.require(actor, "visits.review")
    where = _visit_scope(actor)
    for column, value in (
        (VisitRow.account, account_id),
        (VisitRow.user, user_id),
        (VisitRow.verdict, verdict),
        (VisitRow.review_status, review),
    ):
        if value is not None:
            where.append(column == value)
    if since is not None:
        where.append(VisitRow.checked_in_on >= since)
    if until is not None:
        where.append(VisitRow.checked_in_on <= until)
    async with read_transaction():
        rows = await (
            VisitRow.select(*_VISIT_COLUMNS)
            .where(*where)
            .order_by(VisitRow.checked_in_at, ascending=review == "pending")  # the queue: oldest first
            .order_by(VisitRow.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await VisitRow.count().where(*where)
    return VisitPage(items=[visit_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def review(*, actor: Actor, visit_id: uuid.UUID, data: ReviewDecision) -> Visit:
    """A manager accepts a doubtful check-in (it then counts for coverage) or rejects it; both are audited."""
    scope.require(actor, "visits.review")
    async with write_transaction():
        row = await _visit_row(actor, visit_id)
        if as_uuid(row["user"]) == actor.id:
            msg = "a check-in is reviewed by someone other than the person who made it"
            raise Forbidden(msg)
        if row["review_status"] != "pending":
            msg = f"this check-in is not waiting for review (it is {row['review_status']})"
            raise Conflict(msg)
        accepted = data.decision == "accept"
        if data.decision == "reject" and not data.comment.strip():
            msg = "say why the check-in is rejected; the rep sees the comment"
            raise InvalidInput(msg, field="comment")
        await VisitRow.update(
            {
                VisitRow.review_status: "accepted" if accepted else "rejected",
                VisitRow.review_comment: data.comment,
                VisitRow.reviewed_by: actor.id,
                VisitRow.reviewed_at: utcnow(),
                VisitRow.counts_for_coverage: accepted,
                VisitRow.updated_at: utcnow(),
            }
        ).where(VisitRow.id == visit_id)
        account_id = as_uuid(row["account"])
        if accepted:
            await accounts.record_visit_day(account_id=account_id, on=as_date(row["checked_in_on"]))
        await audit.record(
            actor=actor,
            entity="visit",
            entity_id=visit_id,
            account_id=account_id,
            action="review",
            changes={
                "review_status": ["pending", "accepted" if accepted else "rejected"],
                "comment": [None, data.comment],
            },
        )
        return await _reload(visit_id)


# ---------------------------------------------------------------- location proposals


def _proposal_out(row: Mapping[str, Any]) -> LocationProposal:
    return LocationProposal(
        id=row["id"],
        account_id=row["account"],
        account_name=row["account_name"] or "",
        visit_id=row["visit"],
        proposed_by_name=row["proposed_by_name"] or "",
        latitude=row["latitude"],
        longitude=row["longitude"],
        accuracy_m=row["accuracy_m"],
        status=row["status"],
        created_at=row["created_at"],
    )


_PROPOSAL_COLUMNS = (
    *ProposalRow.all_columns(),
    ProposalRow.account.name.as_alias("account_name"),
    ProposalRow.proposed_by.display_name.as_alias("proposed_by_name"),
)


def _proposal_scope(actor: Actor) -> list[Any]:
    where: list[Any] = [ProposalRow.account.deleted_at.is_null()]
    owner = scope.owner_filter(actor, ProposalRow.account.owner)
    if owner is not None:
        where.append(owner)
    return where


async def list_proposals(*, actor: Actor, page: PageParams, status: str | None = "pending") -> LocationProposalPage:
    """Proposed account locations in the actor's scope, oldest first."""
    scope.require(actor, "accounts.locate")
    where = _proposal_scope(actor)
    if status is not None:
        where.append(ProposalRow.status == status)
    async with read_transaction():
        rows = await (
            ProposalRow.select(*_PROPOSAL_COLUMNS)
            .where(*where)
            .order_by(ProposalRow.created_at)
            .order_by(ProposalRow.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await ProposalRow.count().where(*where)
    return LocationProposalPage(
        items=[_proposal_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total)
    )


async def decide_proposal(*, actor: Actor, proposal_id: uuid.UUID, data: ProposalDecision) -> LocationProposal:
    """Confirm a proposed location (the account is pinned there, audited, its check-ins judged again), or reject it."""
    scope.require(actor, "accounts.locate")
    async with write_transaction():
        row = (
            await ProposalRow.select(*_PROPOSAL_COLUMNS)
            .where(ProposalRow.id == proposal_id, *_proposal_scope(actor))
            .first()
        )
        if row is None:
            msg = f"location proposal {proposal_id} not found"
            raise NotFound(msg)
        if row["status"] != "pending":
            msg = f"this proposal was already {row['status']}"
            raise Conflict(msg)
        confirmed = data.decision == "confirm"
        await ProposalRow.update(
            {
                ProposalRow.status: "confirmed" if confirmed else "rejected",
                ProposalRow.decided_by: actor.id,
                ProposalRow.decided_at: utcnow(),
                ProposalRow.comment: data.comment,
            }
        ).where(ProposalRow.id == proposal_id)
        if confirmed:
            account_id = as_uuid(row["account"])
            reason = data.comment or f"confirmed the location proposed by {row['proposed_by_name']}'s check-in"
            await accounts.set_location(
                actor=actor, account_id=account_id, latitude=row["latitude"], longitude=row["longitude"], reason=reason
            )
            await _rejudge_unpinned(account_id)
        final = required(await ProposalRow.select(*_PROPOSAL_COLUMNS).where(ProposalRow.id == proposal_id).first())
    return _proposal_out(final)


async def _rejudge_unpinned(account_id: uuid.UUID) -> None:
    """Check-ins made before the account had a pin: judge their distance now that it has one."""
    site_row = (await accounts.locations([account_id]))[account_id]
    site = Site(site_row["latitude"], site_row["longitude"], site_row["visit_radius_m"])
    rows = await VisitRow.select().where(
        VisitRow.account == account_id, VisitRow.verdict == "unverified", VisitRow.latitude.is_not_null()
    )
    limits = Thresholds.from_settings(get_settings())
    for row in rows:
        claim = Claim(row["latitude"], row["longitude"], row["accuracy_m"], None, row["device_at"], 0.0)
        judgement = judge(claim, site, None, limits)
        flags = _json_list(row["flags"])
        clean = judgement.verdict == "verified" and not flags and row["review_status"] in {"none", "pending"}
        values: dict[Any, Any] = {
            VisitRow.verdict: judgement.verdict,
            VisitRow.distance_m: judgement.distance_m,
            VisitRow.updated_at: utcnow(),
        }
        if clean:
            values[VisitRow.counts_for_coverage] = True
            values[VisitRow.review_status] = "none"
        await VisitRow.update(values).where(VisitRow.id == row["id"])
        if clean:
            await accounts.record_visit_day(account_id=account_id, on=as_date(row["checked_in_on"]))


# ---------------------------------------------------------------- plans

_PLAN_COLUMNS = (
    *PlanRow.all_columns(),
    PlanRow.account.name.as_alias("account_name"),
    PlanRow.account.address.as_alias("account_address"),
    PlanRow.account.tier.as_alias("account_tier"),
    PlanRow.account.latitude.as_alias("latitude"),
    PlanRow.account.longitude.as_alias("longitude"),
    PlanRow.owner.display_name.as_alias("owner_name"),
)


def plan_out(row: Mapping[str, Any], today: datetime.date, distance: float | None = None) -> VisitPlan:
    """A plan row as its API shape; a plan left undone on a past day shows as missed."""
    on = as_date(row["date"])
    status = row["status"]
    if status == "planned" and on < today:
        status = "missed"
    return VisitPlan(
        id=row["id"],
        account_id=row["account"],
        account_name=row["account_name"] or "",
        account_address=row["account_address"] or "",
        account_tier=row["account_tier"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        owner_id=row["owner"],
        owner_name=row["owner_name"] or "",
        date=on,
        purpose=row["purpose"],
        status=status,
        visit_id=uuid.UUID(row["visit_id"]) if row["visit_id"] else None,
        distance_m=None if distance is None else round(distance, 1),
    )


def _plan_scope(actor: Actor) -> list[Any]:
    where: list[Any] = [PlanRow.deleted_at.is_null(), PlanRow.account.deleted_at.is_null()]
    owner = scope.owner_filter(actor, PlanRow.owner)
    if owner is not None:
        where.append(owner)
    return where


async def _plan_row(actor: Actor, plan_id: uuid.UUID) -> dict[str, Any]:
    row = await PlanRow.select(*_PLAN_COLUMNS).where(PlanRow.id == plan_id, *_plan_scope(actor)).first()
    if row is None:
        msg = f"plan {plan_id} not found"
        raise NotFound(msg)
    return row


async def create_plan(*, actor: Actor, data: VisitPlanCreate) -> VisitPlan:
    """Plan a visit for oneself, or (a leader) for someone in one's team; the same id again returns the plan."""
    scope.require(actor, "visits.plan")
    owner_id = data.owner_id or actor.id
    plan_id = data.id or new_id()
    today = business_today()
    async with write_transaction():
        existing = await PlanRow.select(*_PLAN_COLUMNS).where(PlanRow.id == plan_id).first()
        if existing is not None:
            if as_uuid(existing["owner"]) != owner_id:
                msg = f"plan {plan_id} already exists"
                raise Conflict(msg)
            return plan_out(existing, today)
        if owner_id != actor.id:
            scope.require(actor, "visits.plan_for_others")
            user_scope = scope.user_filter(actor)
            found = await User.exists().where(
                User.id == owner_id, User.is_active.eq(True), *([user_scope] if user_scope is not None else [])
            )
            if not found:
                msg = f"user {owner_id} is not someone you plan for"
                raise InvalidInput(msg, field="ownerId")
        await accounts.ensure_visible(actor=actor, account_id=data.account_id)
        if data.date < today - datetime.timedelta(days=1):
            msg = "a visit is planned for today or later"
            raise InvalidInput(msg, field="date")
        await PlanRow.insert(
            PlanRow(
                id=plan_id,
                account=data.account_id,
                owner=owner_id,
                created_by=actor.id,
                date=data.date,
                purpose=data.purpose,
            )
        )
        return plan_out(required(await PlanRow.select(*_PLAN_COLUMNS).where(PlanRow.id == plan_id).first()), today)


async def update_plan(*, actor: Actor, plan_id: uuid.UUID, data: VisitPlanPatch) -> VisitPlan:
    """Move, re-purpose or cancel a plan that is not done."""
    scope.require(actor, "visits.plan")
    today = business_today()
    async with write_transaction():
        row = await _plan_row(actor, plan_id)
        if row["status"] == "done":
            msg = "this plan is done: the visit happened"
            raise Conflict(msg)
        values: dict[Any, Any] = {PlanRow.updated_at: utcnow()}
        changes = changed_fields(data)
        if "date" in changes:
            if changes["date"] < today:
                msg = "a plan moves to today or later"
                raise InvalidInput(msg, field="date")
            values[PlanRow.date] = changes["date"]
        if "purpose" in changes:
            values[PlanRow.purpose] = changes["purpose"]
        if "cancelled" in changes:
            values[PlanRow.status] = "cancelled" if changes["cancelled"] else "planned"
        await PlanRow.update(values).where(PlanRow.id == plan_id)
        return plan_out(required(await PlanRow.select(*_PLAN_COLUMNS).where(PlanRow.id == plan_id).first()), today)


async def list_plans(
    *,
    actor: Actor,
    page: PageParams,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    owner_id: uuid.UUID | None = None,
    status: str | None = None,
) -> VisitPlanPage:
    """Plans the actor sees, by date."""
    scope.require(actor, "visits.read")
    today = business_today()
    where = _plan_scope(actor)
    if owner_id is not None:
        where.append(PlanRow.owner == owner_id)
    if since is not None:
        where.append(PlanRow.date >= since)
    if until is not None:
        where.append(PlanRow.date <= until)
    if status == "missed":
        where += [PlanRow.status == "planned", PlanRow.date < today]
    elif status == "planned":
        where += [PlanRow.status == "planned", PlanRow.date >= today]
    elif status is not None:
        where.append(PlanRow.status == status)
    async with read_transaction():
        rows = await (
            PlanRow.select(*_PLAN_COLUMNS)
            .where(*where)
            .order_by(PlanRow.date)
            .order_by(PlanRow.created_at)
            .order_by(PlanRow.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await PlanRow.count().where(*where)
    return VisitPlanPage(items=[plan_out(r, today) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def open_plan_count(*, owner_id: uuid.UUID, on: datetime.date) -> int:
    """How many visits a person still has planned on a day (for the daily digest)."""
    return int(
        await PlanRow.count().where(
            PlanRow.owner == owner_id,
            PlanRow.date == on,
            PlanRow.status == "planned",
            PlanRow.deleted_at.is_null(),
            PlanRow.account.deleted_at.is_null(),
        )
    )


async def day_plan(
    *,
    actor: Actor,
    on: datetime.date | None = None,
    order: str = "planned",
    latitude: float | None = None,
    longitude: float | None = None,
    owner_id: uuid.UUID | None = None,
) -> DayPlan:
    """One person's plan for a day (not cancelled), planned, nearest first from a position, or as a short route."""
    scope.require(actor, "visits.read")
    today = business_today()
    on = on or today
    if order == "nearest" and (latitude is None or longitude is None):
        msg = "nearest first needs your position (lat and lon)"
        raise InvalidInput(msg, field="lat")
    if (latitude is None) != (longitude is None):
        msg = "give lat and lon together, or neither"
        raise InvalidInput(msg, field="lat" if latitude is None else "lon")
    where = [
        *_plan_scope(actor),
        PlanRow.owner == (owner_id or actor.id),
        PlanRow.date == on,
        PlanRow.status != "cancelled",
    ]
    rows = await PlanRow.select(*_PLAN_COLUMNS).where(*where).order_by(PlanRow.created_at).order_by(PlanRow.id)
    if len(rows) > routing.MAX_ROUTE_STOPS and order == "route":
        msg = f"a route takes at most {routing.MAX_ROUTE_STOPS} stops; this day has {len(rows)}"
        raise InvalidInput(msg, field="order")
    located = [r for r in rows if r["latitude"] is not None and r["longitude"] is not None]
    unlocated = [r for r in rows if r["latitude"] is None or r["longitude"] is None]
    points = [(r["latitude"], r["longitude"]) for r in located]
    start = (latitude, longitude) if latitude is not None and longitude is not None else None
    if order == "nearest" and start is not None:
        ordered = [located[i] for i in routing.nearest_first(start, points)]
    elif order == "route":
        ordered = [located[i] for i in routing.route(start, points)]
    else:
        ordered = located
    legs = routing.leg_lengths(start, [(r["latitude"], r["longitude"]) for r in ordered])
    planned_legs = routing.leg_lengths(start, points)
    if order == "planned":
        leg_of = {r["id"]: leg for r, leg in zip(located, planned_legs, strict=True)}
        items = [plan_out(r, today, leg_of.get(r["id"])) for r in rows]
    else:  # stops without a pin cannot be ordered by distance: they come last
        items = [plan_out(r, today, leg) for r, leg in zip(ordered, legs, strict=True)]
        items += [plan_out(r, today) for r in unlocated]
    total = sum(leg for leg in legs if leg is not None) if located else None
    planned_total = sum(leg for leg in planned_legs if leg is not None) if located else None
    return DayPlan(
        date=on,
        order=order,  # type: ignore[arg-type]
        items=items,
        total_distance_m=None if total is None else round(total, 1),
        planned_distance_m=None if planned_total is None else round(planned_total, 1),
    )


# ---------------------------------------------------------------- the account timeline

_VERDICT_WORDS = {
    "verified": "verified",
    "out_of_range": "away from the site",
    "low_accuracy": "poor location",
    "unverified": "no location",
}


async def _visit_source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    rows = await (
        VisitRow.select(
            VisitRow.id,
            VisitRow.checked_in_at,
            VisitRow.verdict,
            VisitRow.review_status,
            VisitRow.purpose,
            VisitRow.outcome,
            VisitRow.duration_s,
            VisitRow.user.display_name.as_alias("user_name"),
        )
        .where(VisitRow.account == account_id)
        .order_by(VisitRow.checked_in_at, ascending=False)
        .limit(limit)
    )
    return [
        TimelineItem(
            at=r["checked_in_at"],
            kind="visit",
            title=r["purpose"] or "visit",
            detail=r["outcome"],
            ref_id=r["id"],
            actor_name=r["user_name"] or "",
            data={
                "verdict": r["verdict"],
                "verdictText": _VERDICT_WORDS.get(r["verdict"], r["verdict"]),
                "reviewStatus": r["review_status"],
                "durationS": r["duration_s"],
            },
        )
        for r in rows
    ]


timeline.register("visits", _visit_source)
