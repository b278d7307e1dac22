"""Which codebook names a store's codes: the version its codes came from, else the shipped one.

Tables and exports need theme names and codebook order, which the ``codes`` table
does not hold; the YAML of the version in ``codebook_versions`` does.
"""
from __future__ import annotations

import logging
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.coding.codebook import Codebook, CodebookError, load_codebook
from qualcode.store import schema

log = logging.getLogger(__name__)


def codebook_for_store(session: Session) -> Codebook | None:
    """The codebook version most active codes belong to; the shipped codebook if none is stored."""
    versions = Counter(session.scalars(select(schema.Code.codebook_version).where(schema.Code.active)))
    candidates = [v for v, _ in versions.most_common()]
    newest = session.scalars(select(schema.CodebookVersion.version)
                             .order_by(schema.CodebookVersion.created_at.desc())).first()
    if newest and newest not in candidates:
        candidates.append(newest)
    for version in candidates:
        row = session.get(schema.CodebookVersion, version)
        if row is None:
            continue
        try:
            return Codebook.from_yaml_text(row.yaml_text, source=f"codebook version {version}")
        except CodebookError:
            log.warning("stored codebook version %s does not parse; using the shipped codebook", version)
    try:
        return load_codebook()
    except CodebookError:  # pragma: no cover - the shipped codebook is tested elsewhere
        return None
