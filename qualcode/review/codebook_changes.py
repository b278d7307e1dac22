"""Make a codebook edit real: the store's YAML file, a new codebook version, and codings that follow their code.

Codings are never edited. A rename or move copies each active coding under the new id
and deactivates the original; a merge folds the two codes' codings per segment, source
and reviewer into one (a reviewer's code applies if they applied either; a machine
suggestion keeps the higher score); a delete deactivates the code's codings. The rows
written and deactivated are kept on a ``codebook_changes`` row, so ``undo_last_change``
puts back exactly what was there. File and store change together: if the store write
fails, the previous file is restored.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from qualcode.coding.codebook import Codebook, CodebookError, load_codebook
from qualcode.files import write_text_atomic
from qualcode.review.actions import MACHINE_SOURCES
from qualcode.store import schema
from qualcode.store.audit import record
from qualcode.store.schema import utcnow

C, A = schema.Coding, schema.Adjudication
COPIED = ("segment_id", "source", "applied", "score", "evidence", "codebook_version", "model_version", "created_by",
          "created_at")


@dataclass
class Impact:
    """What a change to some codes touches: active codings by kind, and the segments they sit on."""

    suggestions: int = 0  # machine codings (applied or possible)
    decisions: int = 0  # reviewer decisions (accept, reject, add)
    adjudications: int = 0
    segments: int = 0

    @property
    def total(self) -> int:
        return self.suggestions + self.decisions + self.adjudications


@dataclass
class ChangeResult:
    change_id: int
    action: str
    book: Codebook
    copied: int = 0
    folded: int = 0
    deactivated: int = 0
    detail: dict = field(default_factory=dict)


def impact(session: Session, codes: list[str]) -> Impact:
    """How many active codings (and on how many segments) the codes carry."""
    out = Impact()
    for source, n in session.execute(select(C.source, func.count()).where(C.code.in_(codes), C.active)
                                     .group_by(C.source)):
        if source in MACHINE_SOURCES:
            out.suggestions += n
        elif source == "reviewer":
            out.decisions += n
    out.adjudications = session.scalar(select(func.count()).select_from(A).where(A.code.in_(codes), A.active)) or 0
    coded = select(C.segment_id).where(C.code.in_(codes), C.active)
    judged = select(A.segment_id).where(A.code.in_(codes), A.active)
    out.segments = session.scalar(select(func.count()).select_from(coded.union(judged).subquery())) or 0
    return out


# -- moving codings ------------------------------------------------------------------------------
def _move_codings(session: Session, old: str, new: str, ids: dict[str, list[int]]) -> tuple[int, int]:
    """Codings of ``old`` re-filed under ``new``; (copied, folded). Ids written/deactivated go into ``ids``."""
    rows = session.scalars(select(C).where(C.code.in_([old, new]), C.active).order_by(C.created_at, C.id)).all()
    groups: dict[tuple, list[schema.Coding]] = defaultdict(list)
    for row in rows:
        groups[(row.segment_id, row.source, row.created_by)].append(row)
    copies, copied, folded = [], 0, 0
    for group in groups.values():
        mine = [r for r in group if r.code == old]
        if not mine:
            continue
        theirs = [r for r in group if r.code == new]
        if not theirs:  # plain rename: one copy per row, same author and time
            copies += [{**{k: getattr(r, k) for k in COPIED}, "code": new, "active": True} for r in mine]
            copied += len(mine)
        else:
            copies.append(_fold(mine, theirs, new))
            folded += 1
        for r in mine + theirs:
            r.active = False
            ids["deactivated"].append(r.id)
    session.flush()
    if copies:
        ids["created"] += list(session.scalars(insert(C).returning(C.id), copies))
    return copied, folded


def _fold(mine: list[schema.Coding], theirs: list[schema.Coding], code: str) -> dict:
    """One coding for a reviewer's (or a machine's) two decisions on codes that became one."""
    latest_mine, latest_theirs = mine[-1], theirs[-1]
    if latest_mine.source == "reviewer":
        applied = latest_mine.applied or latest_theirs.applied
        base = max((r for r in (latest_mine, latest_theirs) if r.applied == applied), key=lambda r: r.created_at)
    else:
        base = max(mine + theirs, key=lambda r: (r.applied, r.score or 0.0))
        applied = base.applied
    evidence = [e for r in (latest_mine, latest_theirs) for e in (r.evidence or [])]
    seen, unique = set(), []
    for e in evidence:
        key = (e.get("start"), e.get("end")) if isinstance(e, dict) else repr(e)
        if key not in seen:
            seen.add(key)
            unique.append(e)
    return {**{k: getattr(base, k) for k in COPIED}, "applied": applied, "evidence": unique,
            "created_at": max(latest_mine.created_at, latest_theirs.created_at), "code": code, "active": True}


def _move_adjudications(session: Session, old: str, new: str, ids: dict[str, list[int]]) -> None:
    rows = session.scalars(select(A).where(A.code.in_([old, new]), A.active).order_by(A.created_at, A.id)).all()
    by_segment: dict[int, list[schema.Adjudication]] = defaultdict(list)
    for row in rows:
        by_segment[row.segment_id].append(row)
    for group in by_segment.values():
        mine = [r for r in group if r.code == old]
        if not mine:
            continue
        theirs = [r for r in group if r.code == new]
        applied = mine[-1].applied or bool(theirs and theirs[-1].applied)
        latest = group[-1]
        for r in group:
            r.active = False
            ids["adj_deactivated"].append(r.id)
        row = A(segment_id=latest.segment_id, code=new, applied=applied, adjudicator=latest.adjudicator,
                note=latest.note, created_at=latest.created_at)
        session.add(row)
        session.flush()
        ids["adj_created"].append(row.id)


def _deactivate(session: Session, codes: list[str], ids: dict[str, list[int]]) -> int:
    found = list(session.scalars(select(C.id).where(C.code.in_(codes), C.active)))
    adj = list(session.scalars(select(A.id).where(A.code.in_(codes), A.active)))
    if found:
        session.execute(update(C).where(C.id.in_(found)).values(active=False))
    if adj:
        session.execute(update(A).where(A.id.in_(adj)).values(active=False))
    ids["deactivated"] += found
    ids["adj_deactivated"] += adj
    return len(found) + len(adj)


# -- applying and undoing --------------------------------------------------------------------------
def _ensure_version(session: Session, book: Codebook, text: str, actor: str) -> None:
    """The version a change starts from is kept, so that undo can go back to it."""
    if session.get(schema.CodebookVersion, book.version) is None:
        session.add(schema.CodebookVersion(version=book.version, label=book.version_label, yaml_text=text,
                                           created_by=actor))


def apply_change(factory, path: Path, before_text: str, text: str, actor: str, action: str, *,
                 renamed: dict[str, str] | None = None, removed: list[str] = (), detail: dict | None = None
                 ) -> ChangeResult:
    """Write ``text`` to ``path`` and make it the store's codebook, moving codings as the change says.

    ``renamed`` maps old code ids to new ones (rename, move, merge); ``removed`` lists
    deleted codes, whose codings are deactivated (recoverable with undo).
    """
    from qualcode.coding.coder import current_coder
    from qualcode.coding.apply import sync_codebook

    actor = " ".join((actor or "").split())
    if not actor:
        raise ValueError("a name is required to change the codebook")
    path = Path(path)
    before = Codebook.from_yaml_text(before_text, source=str(path))
    Codebook.from_yaml_text(text, source=str(path))  # validate before touching anything
    previous = path.read_bytes() if path.is_file() else None
    write_text_atomic(path, text)
    try:
        book = load_codebook(path)
        ids: dict[str, list[int]] = {"created": [], "deactivated": [], "adj_created": [], "adj_deactivated": []}
        copied = folded = 0
        with factory.begin() as session:
            _ensure_version(session, before, before_text, actor)
            sync_codebook(session, book, actor=actor)
            for old, new in (renamed or {}).items():
                c, f = _move_codings(session, old, new, ids)
                copied, folded = copied + c, folded + f
                _move_adjudications(session, old, new, ids)
            deactivated = _deactivate(session, list(removed), ids) if removed else 0
            info = {**(detail or {}), **({"renamed": renamed} if renamed else {}),
                    **({"removed": list(removed)} if removed else {}),
                    "adjudications": {"created": ids["adj_created"], "deactivated": ids["adj_deactivated"]}}
            change = schema.CodebookChange(action=action, detail=info, before_version=before.version,
                                           after_version=book.version, created_codings=ids["created"],
                                           deactivated_codings=ids["deactivated"], actor=actor)
            session.add(change)
            session.flush()
            record(session, actor, "codebook_" + action, "codebook", book.version, change=change.id,
                   before=before.version, path=str(path), copied=copied, folded=folded,
                   deactivated=len(ids["deactivated"]) + len(ids["adj_deactivated"]),
                   **{k: v for k, v in info.items() if k != "adjudications"})
    except BaseException:
        if previous is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(previous)
        raise
    current_coder.cache_clear()  # the next coding run uses the new rules
    return ChangeResult(change.id, action, book, copied, folded, deactivated, info)


def last_change(session: Session) -> schema.CodebookChange | None:
    """The newest codebook change not yet undone (the one undo would take back)."""
    return session.scalars(select(schema.CodebookChange).where(schema.CodebookChange.undone_at.is_(None))
                           .order_by(schema.CodebookChange.id.desc()).limit(1)).first()


def undo_last_change(factory, path: Path, actor: str) -> schema.CodebookChange | None:
    """Take back the newest codebook change: its YAML, its codebook version and exactly the codings it moved.

    Refused (CodebookError) when the file was edited by hand since, or when reviewers
    have since coded with a code the undo would take away. None when there is nothing to undo.
    """
    from qualcode.coding.coder import current_coder
    from qualcode.coding.apply import sync_codebook

    actor = " ".join((actor or "").split())
    if not actor:
        raise ValueError("a name is required to change the codebook")
    path = Path(path)
    with factory() as session:
        change = last_change(session)
        if change is None:
            return None
        old = session.get(schema.CodebookVersion, change.before_version)
        if old is None:
            raise CodebookError(f"codebook version {change.before_version} is not in the store; cannot undo")
        current = load_codebook(path) if path.is_file() else None
        if current is None or current.version != change.after_version:
            raise CodebookError(f"{path} was changed after change {change.id} ({change.action}); "
                                "undo would overwrite that: edit the file instead")
        before = Codebook.from_yaml_text(old.yaml_text, source=str(path))
        vanishing = sorted(set(current.code_ids) - set(before.code_ids))
        created = set(change.created_codings or [])
        later = [i for i in session.scalars(select(C.id).where(C.code.in_(vanishing), C.active,
                                                                C.source == "reviewer")) if i not in created]
        if later:
            raise CodebookError(f"reviewers have made {len(later)} decision(s) with "
                                f"{', '.join(vanishing)} since change {change.id}; undo would hide them")
        before_text = old.yaml_text
    previous = path.read_bytes()
    write_text_atomic(path, before_text)
    try:
        with factory.begin() as session:
            change = session.get(schema.CodebookChange, change.id)
            sync_codebook(session, load_codebook(path), actor=actor)
            adj = change.detail.get("adjudications", {}) if isinstance(change.detail, dict) else {}
            if change.created_codings:
                session.execute(update(C).where(C.id.in_(change.created_codings)).values(active=False))
            if change.deactivated_codings:
                session.execute(update(C).where(C.id.in_(change.deactivated_codings)).values(active=True))
            if adj.get("created"):
                session.execute(update(A).where(A.id.in_(adj["created"])).values(active=False))
            if adj.get("deactivated"):
                session.execute(update(A).where(A.id.in_(adj["deactivated"])).values(active=True))
            # suggestions the re-coding wrote for codes that are gone again
            stale = list(session.scalars(select(C.id).where(C.code.in_(vanishing), C.active,
                                                            C.source.in_(MACHINE_SOURCES))))
            if stale:
                session.execute(update(C).where(C.id.in_(stale)).values(active=False))
            change.undone_by, change.undone_at = actor, utcnow()
            record(session, actor, "codebook_undo", "codebook", change.before_version, change=change.id,
                   undid=change.action, restored=len(change.deactivated_codings or []),
                   withdrawn=len(change.created_codings or []) + len(stale))
    except BaseException:
        path.write_bytes(previous)
        raise
    current_coder.cache_clear()
    return change


# -- one entry point for the app and the CLI ---------------------------------------------------
ACTIONS = ("add", "rename", "move", "merge", "delete", "edit")


@dataclass
class Plan:
    """What a change will do, before anything is written: the new text and how codings follow."""

    action: str
    text: str
    renamed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    detail: dict = field(default_factory=dict)

    @property
    def affected(self) -> list[str]:
        return [*self.renamed, *self.removed]


def plan_change(text: str, action: str, source: str = "<kodebok>", **kw) -> Plan:
    """The new YAML text for ``action`` and the codes whose codings follow; raises CodebookError.

    add(code, theme_name?) · rename(code_id, new_id?, name?, theme_name?) · move(code_id, theme_id,
    theme_name?) · merge(source_id, target_id) · delete(code_id) · edit(code_id, snippet).
    Renaming or moving a code takes its nested codes (``a.b.c`` under ``a.b``) along.
    """
    from qualcode.review import codebook_edit as edit

    if action == "add":
        new = edit.add_code(text, kw["code"], theme_name=kw.get("theme_name"), source=source)
        return Plan(action, new, detail={"code": kw["code"]["id"]})
    if action == "delete":
        return Plan(action, edit.delete_code(text, kw["code_id"], source=source), removed=[kw["code_id"]],
                    detail={"code": kw["code_id"]})
    if action == "merge":
        new = edit.merge_codes(text, kw["source_id"], kw["target_id"], source=source)
        return Plan(action, new, renamed={kw["source_id"]: kw["target_id"]},
                    detail={"from": kw["source_id"], "to": kw["target_id"]})
    if action == "edit":
        _, new = edit.replace_code(text, kw["code_id"], kw["snippet"], source=source)
        return Plan(action, new, detail={"code": kw["code_id"]})
    if action in ("rename", "move"):
        code_id = kw["code_id"]
        if action == "move":
            theme_id = kw["theme_id"]
            new_id = ".".join([theme_id, *code_id.split(".")[1:]])
            new = edit.move_code(text, code_id, theme_id, theme_name=kw.get("theme_name"), source=source)
        else:
            new_id = (kw.get("new_id") or code_id).strip()
            new = edit.rename_code(text, code_id, new_id, name=kw.get("name"), theme_name=kw.get("theme_name"),
                                   source=source)
        renamed = {code_id: new_id} if new_id != code_id else {}
        if renamed:
            book = Codebook.from_yaml_text(text, source=source)
            for child in [c for c in book.code_ids if c.startswith(code_id + ".")]:
                child_new = new_id + child[len(code_id):]
                new = edit.rename_code(new, child, child_new, theme_name=kw.get("theme_name"), source=source)
                renamed[child] = child_new
        return Plan(action, new, renamed=renamed, detail={"code": code_id, "to": new_id,
                                                          **({"name": kw["name"]} if kw.get("name") else {})})
    raise ValueError(f"unknown codebook action {action!r} (one of {', '.join(ACTIONS)})")


def change_codebook(factory, current: Path, own: Path, actor: str, action: str, **kw) -> ChangeResult:
    """Plan ``action`` on the codebook in use (``current``) and apply it to the store's own file ``own``."""
    before_text = Path(current).read_text(encoding="utf-8")
    plan = plan_change(before_text, action, source=str(own), **kw)
    if Codebook.from_yaml_text(plan.text).version == Codebook.from_yaml_text(before_text).version:
        raise CodebookError("nothing changed")
    return apply_change(factory, own, before_text, plan.text, actor, action, renamed=plan.renamed,
                        removed=plan.removed, detail=plan.detail)
