"""Fixtures of the engine's tests: the memo subject registered, with the shipped quote rules on memos."""

from collections.abc import AsyncIterator

import pytest

from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.subjects import register_subject, unregister_subject
from tests.factories import Org
from tests.workflow.memo import MemoSubject, memo_definition


@pytest.fixture
async def memos(org: Org) -> AsyncIterator[MemoSubject]:
    subject = MemoSubject()
    register_subject(subject)
    await workflow.put_definition(actor=await org.actor("hq"), key="memo-approval", body=memo_definition())
    yield subject
    unregister_subject("memo")
