"""What reviewers have decided, read from the store in one place.

A segment counts as *labelled* once a reviewer has marked it done (an active
``segment_reviews`` row). Its codes are then the codes whose latest active
reviewer coding applies them; every other code counts as absent. Machine
codings (rule, model) never count as labels.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.store.schema import Coding, SegmentReview


def _decisions(session: Session, segment_ids=None):
    query = select(Coding.segment_id, Coding.created_by, Coding.code, Coding.applied).where(
        Coding.source == "reviewer", Coding.active).order_by(Coding.created_at, Coding.id)
    if segment_ids is not None:
        query = query.where(Coding.segment_id.in_(list(segment_ids)))
    return session.execute(query)


def _done(session: Session, segment_ids=None) -> dict[int, set[str]]:
    query = select(SegmentReview.segment_id, SegmentReview.reviewer).where(SegmentReview.active)
    if segment_ids is not None:
        query = query.where(SegmentReview.segment_id.in_(list(segment_ids)))
    done: dict[int, set[str]] = defaultdict(set)
    for seg, reviewer in session.execute(query):
        done[seg].add(reviewer)
    return done


def labels_by_reviewer(session: Session, segment_ids=None) -> dict[str, dict[int, set[str]]]:
    """reviewer → segment → codes, for segments that reviewer marked done."""
    done = _done(session, segment_ids)
    latest: dict[tuple[str, int], dict[str, bool]] = defaultdict(dict)
    for seg, reviewer, code, applied in _decisions(session, segment_ids):
        latest[(reviewer, seg)][code] = applied
    out: dict[str, dict[int, set[str]]] = defaultdict(dict)
    for seg, reviewers in done.items():
        for reviewer in reviewers:
            decided = latest.get((reviewer, seg), {})
            out[reviewer][seg] = {code for code, applied in decided.items() if applied}
    return dict(out)


def reviewed_labels(session: Session, segment_ids=None) -> dict[int, set[str]]:
    """segment → codes for every labelled segment; the latest decision on a code wins across reviewers."""
    done = _done(session, segment_ids)
    latest: dict[int, dict[str, bool]] = defaultdict(dict)
    for seg, _reviewer, code, applied in _decisions(session, segment_ids):
        latest[seg][code] = applied
    return {seg: {c for c, applied in latest.get(seg, {}).items() if applied} for seg in done}
