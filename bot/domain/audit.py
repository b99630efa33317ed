"""The audit log of admin actions: who did what, when, and how it ended."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.domain.runtime import Runtime
from storage.models import AuditEntry


@dataclass
class Outcome:
    result: str = "ok"


@asynccontextmanager
async def audited(rt: Runtime, actor: str, action: str, detail: str) -> AsyncIterator[Outcome]:
    """Records the action when the block ends, with "ok" (or what the block set) or the error."""
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:
        await _write(rt, actor, action, detail, f"error: {exc}"[:300])
        raise
    await _write(rt, actor, action, detail, outcome.result[:300])


async def _write(rt: Runtime, actor: str, action: str, detail: str, result: str) -> None:
    # A name or an error may carry what an outsider typed (a document's file name); PostgreSQL text
    # cannot hold NUL, and the entry must be written whatever they typed.
    detail, result = (text.replace("\x00", "\\0") for text in (detail, result))
    async with rt.db.session() as s:
        s.add(AuditEntry(at=rt.clock.now(), actor=actor, action=action, detail=detail, result=result))


async def entries(rt: Runtime, since: datetime | None = None) -> list[AuditEntry]:
    async with rt.db.session() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        return list(await s.scalars(query))


