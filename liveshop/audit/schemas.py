from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from liveshop.audit.models import AuditEntry


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None  # None: the system (CLI, a background job)
    actor_name: str | None
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str

    @classmethod
    def of(cls, entry: AuditEntry, names: dict[int, str]) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            actor_name=names.get(entry.actor_id) if entry.actor_id is not None else None,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            before=entry.before,
            after=entry.after,
            note=entry.note,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int
