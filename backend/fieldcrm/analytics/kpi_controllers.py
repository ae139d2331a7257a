"""HTTP doors of targets, KPIs, trends, leaderboards, reports and their exports."""

import datetime
import uuid
from collections.abc import Iterator
from typing import Annotated

from litestar import Controller, get, put
from litestar.di import Provide
from litestar.params import Parameter, QueryParameter
from litestar.response import Stream

from fieldcrm.analytics import exports, kpis, reports, targets
from fieldcrm.analytics.kpis import Ask
from fieldcrm.analytics.schemas import (
    GroupBy,
    KpiReport,
    Leaderboard,
    Level,
    ReportTable,
    Target,
    TargetPage,
    TargetPut,
    Trend,
)
from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor

PeriodKind = Annotated[str, QueryParameter(description="week, month, quarter or custom (with from and to)")]
SubjectId = Annotated[uuid.UUID | None, QueryParameter(name="id", description="the rep (user) or org unit")]
Lang = Annotated[str | None, QueryParameter(description="zh-CN or en; default: your language setting")]
Format = Annotated[str, QueryParameter(name="format", description="csv or xlsx")]


def provide_ask(
    period: PeriodKind = "month",
    at: Annotated[datetime.date | None, QueryParameter(description="a day in the period (default today)")] = None,
    start: Annotated[datetime.date | None, QueryParameter(name="from", description="custom: first day")] = None,
    end: Annotated[datetime.date | None, QueryParameter(name="to", description="custom: last day")] = None,
) -> Ask:
    """Dependency: the period a request asks for (days in the business time zone)."""
    return Ask(period=period, at=at, start=start, end=end)


def _download(chunks: Iterator[bytes], table: ReportTable, fmt: str) -> Stream:
    return Stream(
        chunks,
        media_type=exports.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{exports.filename(table, fmt)}"'},
    )


class TargetController(Controller):
    """Monthly targets of people and org units."""

    path = "/targets"
    tags = ["targets"]

    @get("/")
    async def list_targets(
        self,
        actor: Actor,
        page: PageParams,
        level: Level | None = None,
        subject_id: Annotated[uuid.UUID | None, QueryParameter(name="subjectId")] = None,
        month: Annotated[str | None, Parameter(description="YYYY-MM")] = None,
    ) -> TargetPage:
        """Targets set explicitly that the caller may see, newest month first."""
        return await targets.list_targets(actor=actor, page=page, level=level, subject_id=subject_id, month=month)

    @put("/{level:str}/{subject_id:uuid}/{month:str}")
    async def put_target(self, actor: Actor, level: str, subject_id: uuid.UUID, month: str, data: TargetPut) -> Target:
        """Set a person's or org unit's targets for a month (YYYY-MM); by a leader above them, never oneself."""
        return await targets.put_target(actor=actor, level=level, subject_id=subject_id, month=month, data=data)


class KpiController(Controller):
    """KPIs of a rep, team, city, province or HQ; trends; leaderboards."""

    path = "/kpis"
    tags = ["kpis"]
    dependencies = {"ask": Provide(provide_ask, sync_to_thread=False)}

    @get("/")
    async def kpis(self, actor: Actor, ask: Ask, level: Level = "rep", subject_id: SubjectId = None) -> KpiReport:
        """The KPIs with targets and progress, for the period, the one before and the same one a year earlier."""
        return await kpis.kpis(actor=actor, level=level, subject_id=subject_id, ask=ask)

    @get("/trend")
    async def trend(self, actor: Actor, ask: Ask, level: Level = "rep", subject_id: SubjectId = None) -> Trend:
        """Twelve periods of the headline KPIs, oldest first."""
        return await kpis.trend(actor=actor, level=level, subject_id=subject_id, ask=ask)

    @get("/leaderboard")
    async def leaderboard(
        self,
        actor: Actor,
        ask: Ask,
        group_by: Annotated[GroupBy | None, QueryParameter(name="groupBy")] = None,
        within: Annotated[uuid.UUID | None, QueryParameter(description="org unit (default: your own)")] = None,
        rep: Annotated[uuid.UUID | None, QueryParameter(description="groupBy=account: whose accounts")] = None,
    ) -> Leaderboard:
        """Provinces, cities, teams, people or one rep's accounts, best first, each row linking one level down."""
        return await kpis.leaderboard(actor=actor, group_by=group_by, ask=ask, within=within, rep=rep)

    @get("/leaderboard/export")
    async def leaderboard_export(
        self,
        actor: Actor,
        ask: Ask,
        fmt: Format = "csv",
        group_by: Annotated[GroupBy | None, QueryParameter(name="groupBy")] = None,
        within: Annotated[uuid.UUID | None, QueryParameter()] = None,
        rep: Annotated[uuid.UUID | None, QueryParameter()] = None,
        lang: Lang = None,
    ) -> Stream:
        """The leaderboard as CSV or XLSX, headers in your language."""
        table, chunks = await reports.export_leaderboard(
            actor=actor, fmt=fmt, group_by=group_by, ask=ask, within=within, rep=rep, lang=lang
        )
        return _download(chunks, table, fmt)


class ReportController(Controller):
    """Revenue, funnel, won/lost, discount and case SLA reports, and their exports."""

    path = "/reports"
    tags = ["reports"]
    dependencies = {"ask": Provide(provide_ask, sync_to_thread=False)}

    @get("/{name:str}")
    async def report(
        self,
        actor: Actor,
        ask: Ask,
        name: str,
        level: Level | None = None,
        subject_id: SubjectId = None,
        lang: Lang = None,
    ) -> ReportTable:
        """One report (revenue-by-product|industry|region|tier, funnel, won-lost, discount-by-rep, case-sla)."""
        return await reports.report(actor=actor, name=name, ask=ask, level=level, subject_id=subject_id, lang=lang)

    @get("/{name:str}/export")
    async def export(
        self,
        actor: Actor,
        ask: Ask,
        name: str,
        fmt: Format = "csv",
        level: Level | None = None,
        subject_id: SubjectId = None,
        lang: Lang = None,
    ) -> Stream:
        """The report as CSV or XLSX, headers in your language, numbers as numbers."""
        table, chunks = await reports.export_report(
            actor=actor, name=name, fmt=fmt, ask=ask, level=level, subject_id=subject_id, lang=lang
        )
        return _download(chunks, table, fmt)


CONTROLLERS = [TargetController, KpiController, ReportController]
