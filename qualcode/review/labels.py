"""What reviewers have decided, read from the store in one place.

A segment counts as *labelled* once a reviewer has marked it done (an active
``segment_reviews`` row). Each reviewer's position on a code is their latest active
decision; a reviewer who marked the segment done and did not apply a code counts as
"does not apply". A code is a label of the segment when every reviewer's position
applies it - or when an adjudication says so, which wins. Where reviewers disagree
and nobody has adjudicated, the code is *disputed*: it is not a label (a report never
quotes it as coded) until it is settled (``qualcode.review.adjudication``). Machine
codings (rule, model) never count as labels.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.store.schema import Adjudication, Coding, SegmentReview


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


def positions(session: Session, segment_ids=None) -> dict[int, dict[str, dict[str, bool]]]:
    """labelled segment → code → reviewer → applied, for every code any reviewer decided on there."""
    done = _done(session, segment_ids)
    latest: dict[int, dict[str, dict[str, bool]]] = defaultdict(lambda: defaultdict(dict))
    for seg, reviewer, code, applied in _decisions(session, segment_ids):
        if seg in done:
            latest[seg][code][reviewer] = applied
    out: dict[int, dict[str, dict[str, bool]]] = {}
    for seg, finished in done.items():
        codes = latest.get(seg, {})
        out[seg] = {code: {**{r: False for r in finished}, **decided} for code, decided in codes.items()}
    return out


def adjudicated(session: Session, segment_ids=None) -> dict[tuple[int, str], bool]:
    """(segment, code) → the agreed decision, where reviewers' disagreement was settled."""
    query = select(Adjudication.segment_id, Adjudication.code, Adjudication.applied).where(
        Adjudication.active).order_by(Adjudication.created_at, Adjudication.id)
    if segment_ids is not None:
        query = query.where(Adjudication.segment_id.in_(list(segment_ids)))
    return {(seg, code): applied for seg, code, applied in session.execute(query)}


def disputes(session: Session, segment_ids=None) -> dict[tuple[int, str], dict[str, bool]]:
    """(segment, code) → reviewer → applied, where reviewers disagree and nobody has adjudicated."""
    settled = adjudicated(session, segment_ids)
    return {(seg, code): pos for seg, codes in positions(session, segment_ids).items() for code, pos in codes.items()
            if len(set(pos.values())) > 1 and (seg, code) not in settled}


def reviewed_labels(session: Session, segment_ids=None) -> dict[int, set[str]]:
    """segment → codes for every labelled segment: unanimous or adjudicated; disputed codes left out."""
    settled = adjudicated(session, segment_ids)
    agreed: dict[int, set[str]] = defaultdict(set)
    for (seg, code), applied in settled.items():
        if applied:
            agreed[seg].add(code)
    out: dict[int, set[str]] = {}
    for seg, codes in positions(session, segment_ids).items():
        out[seg] = {code for code, pos in codes.items() if settled.get((seg, code), all(pos.values()))}
        out[seg] |= agreed.get(seg, set())
    return out
