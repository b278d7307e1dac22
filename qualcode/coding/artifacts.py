"""Which model a store holds: the newest artefact's header, read without loading scikit-learn
(the review queue asks this and must start fast)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.store import schema


def newest_artifact(session: Session):
    """(version, codebook_version, metrics) of the newest active artefact, without its payload."""
    return session.execute(
        select(schema.ModelArtifact.version, schema.ModelArtifact.codebook_version, schema.ModelArtifact.metrics)
        .where(schema.ModelArtifact.active)
        .order_by(schema.ModelArtifact.created_at.desc(), schema.ModelArtifact.id.desc()).limit(1)).first()
