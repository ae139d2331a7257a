"""HTTP doors of retention: risks and their configuration, strategies, episodes, outcomes."""

import uuid
from typing import Annotated

from litestar import Controller, get, post, put
from litestar.params import QueryParameter

from fieldcrm.lib.pagination import PageParams
from fieldcrm.org.schemas import Actor
from fieldcrm.retention import episodes, scoring, services, strategies
from fieldcrm.retention.schemas import (
    Band,
    Episode,
    EpisodeClose,
    EpisodeOpen,
    EpisodePage,
    EpisodeState,
    Outcomes,
    ReasonCode,
    RiskConfig,
    RiskConfigBody,
    RiskPage,
    RiskSort,
    Strategy,
    StrategyInput,
    StrategyPage,
)


class RiskController(Controller):
    """Churn risk of the accounts the caller sees, and how it is scored."""

    path = "/retention"
    tags = ["retention"]

    @get("/risks")
    async def list_risks(
        self,
        actor: Actor,
        page: PageParams,
        band: Band | None = None,
        reason: ReasonCode | None = None,
        min_score: Annotated[int | None, QueryParameter(name="minScore", ge=0, le=100)] = None,
        sort: Annotated[RiskSort, QueryParameter(description="-score (default), score, -revenue, revenue")] = "-score",
    ) -> RiskPage:
        """Scored accounts in scope with their reasons, riskiest first."""
        return await services.list_risks(
            actor=actor, page=page, band=band, reason=reason, min_score=min_score, sort=sort
        )

    @get("/config")
    async def get_config(self, actor: Actor) -> RiskConfig:
        """The scoring configuration in force."""
        return await scoring.get_config(actor=actor)

    @put("/config")
    async def put_config(self, actor: Actor, data: RiskConfigBody) -> RiskConfig:
        """A new version of the weights, thresholds and parameters (HQ)."""
        return await scoring.put_config(actor=actor, data=data)

    @get("/outcomes")
    async def outcomes(self, actor: Actor) -> Outcomes:
        """How each strategy did over the episodes in scope."""
        return await episodes.outcomes(actor=actor)


class StrategyController(Controller):
    """The strategy knowledge base (HQ edits; everyone reads the advice)."""

    path = "/retention/strategies"
    tags = ["retention"]

    @get("/")
    async def list_strategies(self, actor: Actor, page: PageParams) -> StrategyPage:
        """Strategies in force, highest priority first."""
        return await strategies.list_strategies(actor=actor, page=page)

    @post("/")
    async def create_strategy(self, actor: Actor, data: StrategyInput) -> Strategy:
        """A new strategy (HQ)."""
        return await strategies.create_strategy(actor=actor, data=data)

    @put("/{strategy_id:uuid}")
    async def update_strategy(self, actor: Actor, strategy_id: uuid.UUID, data: StrategyInput) -> Strategy:
        """A new version of a strategy (HQ); open episodes keep theirs."""
        return await strategies.update_strategy(actor=actor, strategy_id=strategy_id, data=data)


class EpisodeController(Controller):
    """Retention episodes of the accounts the caller sees."""

    path = "/retention/episodes"
    tags = ["retention"]

    @get("/")
    async def list_episodes(
        self,
        actor: Actor,
        page: PageParams,
        episode_state: Annotated[EpisodeState | None, QueryParameter(name="state")] = None,
        account_id: Annotated[uuid.UUID | None, QueryParameter(name="accountId")] = None,
    ) -> EpisodePage:
        """Episodes in scope, newest first."""
        return await episodes.list_episodes(actor=actor, page=page, state=episode_state, account_id=account_id)

    @post("/")
    async def open_episode(self, actor: Actor, data: EpisodeOpen) -> Episode:
        """A leader opens an episode by hand."""
        return await episodes.open_episode(actor=actor, account_id=data.account_id)

    @get("/{episode_id:uuid}")
    async def get_episode(self, actor: Actor, episode_id: uuid.UUID) -> Episode:
        """One episode."""
        return await episodes.get_episode(actor=actor, episode_id=episode_id)

    @post("/{episode_id:uuid}/close", status_code=200)
    async def close_episode(self, actor: Actor, episode_id: uuid.UUID, data: EpisodeClose) -> Episode:
        """Propose how the episode ended (a leader's proposal closes it)."""
        return await episodes.close_episode(actor=actor, episode_id=episode_id, data=data)

    @post("/{episode_id:uuid}/confirm", status_code=200)
    async def confirm_episode(self, actor: Actor, episode_id: uuid.UUID) -> Episode:
        """A leader confirms the proposed close."""
        return await episodes.confirm_episode(actor=actor, episode_id=episode_id)


CONTROLLERS = [RiskController, StrategyController, EpisodeController]
