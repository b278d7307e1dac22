"""The append-only audit log: who changed what, when, in the same transaction as the change."""
from __future__ import annotations

from sqlalchemy.orm import Session

from qualcode.store.schema import AuditEntry


def record(session: Session, actor: str, action: str, entity: str, entity_id=None, *,
           segment_id: int | None = None, **detail) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, entity=entity,
                       entity_id=None if entity_id is None else str(entity_id),
                       segment_id=segment_id, detail=detail)
    session.add(entry)
    return entry
