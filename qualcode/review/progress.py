"""How far review has come: per document, per code and overall (aggregate SQL, no row-by-row loading)."""
from __future__ import annotations

from collections import Counter

import pandas as pd
from sqlalchemy import Integer, distinct, func, select
from sqlalchemy.orm import Session

from qualcode.formats import share_of
from qualcode.review.actions import MACHINE_SOURCES
from qualcode.review.counts import store_counts
from qualcode.review.labels import reviewed_labels
from qualcode.store import schema


def overall(session: Session, reviewer: str | None = None) -> dict[str, int]:
    """Codable segments, segments done by anyone, and by ``reviewer`` (the definitions of ``review.counts``)."""
    counts = store_counts(session, reviewer)
    return {"codable": counts.codable, "done": counts.reviewed, "mine": counts.mine}


def document_progress(session: Session) -> pd.DataFrame:
    """One row per document: kommune, år, type, fil, segments, codable, done, share done (and as text)."""
    S, D, R = schema.Segment, schema.Document, schema.SegmentReview
    counts = select(S.document_id, func.count().label("segmenter"),
                    func.sum(S.codable.cast(Integer)).label("kodbare")).group_by(S.document_id).subquery()
    done = (select(S.document_id, func.count(distinct(R.segment_id)).label("ferdig"))
            .join(R, R.segment_id == S.id).where(R.active, S.codable).group_by(S.document_id).subquery())
    rows = session.execute(
        select(D.id, D.municipality, D.year, D.doc_type, D.file_name, D.informant_role,
               func.coalesce(counts.c.segmenter, 0), func.coalesce(counts.c.kodbare, 0),
               func.coalesce(done.c.ferdig, 0))
        .outerjoin(counts, counts.c.document_id == D.id).outerjoin(done, done.c.document_id == D.id)
        .order_by(D.municipality, D.year, D.file_name)).all()
    frame = pd.DataFrame(rows, columns=["id", "kommune", "år", "type", "fil", "informant", "segmenter",
                                        "kodbare", "ferdig"])
    frame["andel"] = (frame["ferdig"] / frame["kodbare"].where(frame["kodbare"] > 0)).fillna(0.0)
    frame["fremdrift"] = [share_of(done, codable) for done, codable in zip(frame["ferdig"], frame["kodbare"])]
    return frame


def code_counts(session: Session, codebook) -> pd.DataFrame:
    """Per code: machine suggestions (applied / possible), reviewer-confirmed and reviewer-rejected segments."""
    C = schema.Coding
    machine = Counter()
    possible = Counter()
    for code, applied, n in session.execute(
            select(C.code, C.applied, func.count(distinct(C.segment_id)))
            .where(C.source.in_(MACHINE_SOURCES), C.active).group_by(C.code, C.applied)):
        (machine if applied else possible)[code] += n
    labels = reviewed_labels(session)
    confirmed = Counter(code for codes in labels.values() for code in codes)
    rejected = Counter()
    if labels:
        suggested = session.execute(
            select(C.segment_id, C.code).join(schema.SegmentReview, schema.SegmentReview.segment_id == C.segment_id)
            .where(C.source.in_(MACHINE_SOURCES), C.active, C.applied, schema.SegmentReview.active).distinct())
        rejected.update(code for seg, code in suggested if seg in labels and code not in labels[seg])
    rows = []
    for code in codebook.codes:
        theme = codebook.theme_of(code.id)
        rows.append({"tema": theme.name, "kode": code.id, "navn": code.name, "forslag": machine[code.id],
                     "mulige": possible[code.id], "bekreftet": confirmed[code.id], "avvist": rejected[code.id]})
    return pd.DataFrame(rows, columns=["tema", "kode", "navn", "forslag", "mulige", "bekreftet", "avvist"])
