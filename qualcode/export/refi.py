"""REFI-QDA export: a ``.qdpx`` project (for NVivo, ATLAS.ti, MAXQDA) and a ``.qdc`` codebook.

What goes out:
- every document as a plain-text source (``sources/<guid>.txt``, UTF-8, ``\\n``): the
  frozen text, so selection offsets are exactly the store's segment offsets;
- the codebook: each theme a code with its codes as children (definitions as descriptions);
- reviewer-confirmed codings: per reviewer, each segment they marked done is one
  ``PlainTextSelection`` over the whole segment with a ``Coding`` per code they applied
  (a segment done with no codes is an uncoded selection, so "reviewed, nothing found"
  survives a round trip);
- reviewers as ``Users``, document attributes as ``Variables`` with per-source values,
  municipalities as ``Cases``; memos as ``Notes``.

Never exported: pseudonym mappings, machine suggestions, source paths on this machine.
Output is validated against the shipped REFI schemas before anything is written.
"""
from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

import qualcode
from qualcode.analysis.codebook_info import codebook_for_store
from qualcode.analysis.quotes import citation
from qualcode.formats import segment_ref
from qualcode.review.labels import labels_by_reviewer
from qualcode.store import schema
from qualcode.export.refi_common import (
    CODE_ID_MARK, CODEBOOK_NS, PALETTE, PROJECT_NS, THEME_ID_MARK, VARIABLES, guid, timestamp, validate, with_mark,
)

ORIGIN = f"qualcode {qualcode.__version__}"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed entry dates: the same store exports to the same bytes


@dataclass
class CodeNode:
    id: str
    name: str
    description: str
    children: list["CodeNode"]
    color: str | None = None

    @property
    def guid(self) -> str:
        return guid("theme" if self.children else "code", self.id)


@dataclass
class ExportSummary:
    documents: int
    codes: int
    selections: int
    codings: int
    reviewers: list[str]


def code_tree(session: Session) -> list[CodeNode]:
    """Themes with their codes: codebook order and names where the codebook knows them."""
    book = codebook_for_store(session)
    stored = {c.code: c for c in session.scalars(select(schema.Code).where(schema.Code.active))}
    used = set(session.scalars(select(schema.Coding.code).where(schema.Coding.source == "reviewer").distinct()))
    wanted = set(stored) | used
    themes: dict[str, CodeNode] = {}
    if book is not None:
        for theme in book.themes:
            node = CodeNode(theme.id, theme.name, theme.description, [])
            for code in theme.codes:
                if code.id in wanted or not stored:
                    row = stored.get(code.id)
                    node.children.append(CodeNode(code.id, row.name if row else code.name,
                                                  row.definition if row else code.definition, []))
            if node.children:
                themes[theme.id] = node
    placed = {c.id for t in themes.values() for c in t.children}
    for code_id in sorted(wanted - placed):
        row = stored.get(code_id)
        theme_id = row.theme if row else code_id.split(".")[0]
        theme = themes.setdefault(theme_id, CodeNode(theme_id, theme_id, "", []))
        theme.children.append(CodeNode(code_id, row.name if row else code_id, row.definition if row else "", []))
    for i, theme in enumerate(themes.values()):
        theme.color = PALETTE[i % len(PALETTE)]
        for child in theme.children:
            child.color = theme.color
    return list(themes.values())


def _code_element(parent: etree._Element, ns: str, node: CodeNode, is_theme: bool) -> None:
    el = etree.SubElement(parent, f"{{{ns}}}Code", guid=node.guid, name=node.name,
                          isCodable="false" if is_theme else "true")
    if node.color:
        el.set("color", node.color)
    mark = THEME_ID_MARK if is_theme else CODE_ID_MARK
    etree.SubElement(el, f"{{{ns}}}Description").text = with_mark(node.description, mark, node.id)
    for child in node.children:
        _code_element(el, ns, child, False)


def codebook_xml(tree: list[CodeNode]) -> etree._Element:
    """The ``.qdc`` document (codebook namespace)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for theme in tree:
        _code_element(codes, CODEBOOK_NS, theme, True)
    return root


def export_qdc(session: Session) -> bytes:
    root = codebook_xml(code_tree(session))
    validate(root, "codebook")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _source_names(docs: list[schema.Document]) -> dict[int, str]:
    """File names, made unique with the year (or id) when two documents share one."""
    counts = defaultdict(int)
    for d in docs:
        counts[d.file_name] += 1
    names = {}
    for d in docs:
        names[d.id] = d.file_name if counts[d.file_name] == 1 else f"{d.year or d.id}/{d.file_name}"
    return names


def _decision_times(session: Session) -> dict[tuple[str, int, str], object]:
    """(reviewer, segment, code) → when the reviewer last applied the code."""
    times = {}
    query = select(schema.Coding.created_by, schema.Coding.segment_id, schema.Coding.code, schema.Coding.created_at,
                   schema.Coding.applied).where(schema.Coding.source == "reviewer", schema.Coding.active) \
        .order_by(schema.Coding.created_at, schema.Coding.id)
    for reviewer, seg, code, at, applied in session.execute(query):
        if applied:
            times[(reviewer, seg, code)] = at
    return times


def _done_times(session: Session) -> dict[tuple[str, int], object]:
    query = select(schema.SegmentReview.reviewer, schema.SegmentReview.segment_id, schema.SegmentReview.created_at) \
        .where(schema.SegmentReview.active).order_by(schema.SegmentReview.created_at)
    return {(r, s): at for r, s, at in session.execute(query)}


def project_xml(session: Session, project_name: str = "qualcode"
                ) -> tuple[etree._Element, dict[str, str], ExportSummary]:
    """The ``project.qde`` document and the source texts (zip path → text)."""
    P = f"{{{PROJECT_NS}}}"
    tree = code_tree(session)
    code_guids = {c.id: c.guid for t in tree for c in t.children}
    labels = labels_by_reviewer(session)
    reviewers = sorted(labels)
    user_guid = {name: guid("user", name) for name in reviewers}
    decided_at = _decision_times(session)
    done_at = _done_times(session)
    docs = list(session.scalars(select(schema.Document).order_by(schema.Document.id)))
    names = _source_names(docs)
    segments = {s.id: s for s in session.scalars(select(schema.Segment))}
    memos = defaultdict(list)
    for memo in session.scalars(select(schema.Memo).order_by(schema.Memo.created_at, schema.Memo.id)):
        memos[memo.segment_id].append(memo)
    memo_authors = sorted({m.author for ms in memos.values() for m in ms} - set(user_guid))
    user_guid |= {name: guid("user", name) for name in memo_authors}

    root = etree.Element(f"{P}Project", nsmap={None: PROJECT_NS}, name=project_name, origin=ORIGIN,
                         creationDateTime=timestamp(None))
    if user_guid:
        users = etree.SubElement(root, f"{P}Users")
        for name, ident in user_guid.items():
            etree.SubElement(users, f"{P}User", guid=ident, name=name)
    if tree:
        codes = etree.SubElement(etree.SubElement(root, f"{P}CodeBook"), f"{P}Codes")
        for theme in tree:
            _code_element(codes, PROJECT_NS, theme, True)

    extra_keys = sorted({k for d in docs for k in (d.attributes or {}) if k not in {v[0] for v in VARIABLES}})
    variables = [(attr, name, kind) for attr, name, kind in VARIABLES
                 if any(getattr(d, attr) is not None for d in docs)]
    variables += [(f"attr:{k}", k, "Text") for k in extra_keys]
    var_guid = {attr: guid("variable", name) for attr, name, _ in variables}
    if variables:
        el = etree.SubElement(root, f"{P}Variables")
        for attr, name, kind in variables:
            etree.SubElement(el, f"{P}Variable", guid=var_guid[attr], name=name, typeOfVariable=kind)

    places = defaultdict(list)
    for d in docs:
        if d.municipality:
            places[d.municipality].append(d)
    if places:
        cases = etree.SubElement(root, f"{P}Cases")
        for place, members in sorted(places.items()):
            case = etree.SubElement(cases, f"{P}Case", guid=guid("case", place), name=place)
            if "municipality" in var_guid:
                _variable_value(case, P, var_guid["municipality"], "Text", place)
            for d in members:
                etree.SubElement(case, f"{P}SourceRef", targetGUID=guid("source", d.content_hash))

    texts: dict[str, str] = {}
    notes: list[tuple[str, schema.Memo]] = []
    n_sel = n_cod = 0
    if docs:
        sources = etree.SubElement(root, f"{P}Sources")
        for d in docs:
            sguid = guid("source", d.content_hash)
            texts[f"sources/{sguid}.txt"] = d.text
            src = etree.SubElement(sources, f"{P}TextSource", guid=sguid, name=names[d.id],
                                   plainTextPath=f"internal://{sguid}.txt", creationDateTime=timestamp(d.ingested_at))
            doc_segments = [s for s in d.segments]
            anchored: set[int] = set()
            for seg in doc_segments:
                for reviewer in reviewers:
                    if seg.id not in labels[reviewer]:
                        continue
                    sel_guid = guid("selection", d.content_hash, seg.start, seg.end, reviewer)
                    sel = etree.SubElement(
                        src, f"{P}PlainTextSelection", guid=sel_guid,
                        name=citation(d.municipality or d.file_name, doc_type=d.doc_type, is_transcript=d.is_transcript,
                                      informant_role=d.informant_role, page_start=seg.page_start,
                                      page_end=seg.page_end).strip("()"),
                        startPosition=str(seg.start), endPosition=str(seg.end), creatingUser=user_guid[reviewer],
                        creationDateTime=timestamp(done_at.get((reviewer, seg.id))))
                    n_sel += 1
                    for code in sorted(labels[reviewer][seg.id]):
                        if code not in code_guids:
                            continue
                        coding = etree.SubElement(
                            sel, f"{P}Coding", guid=guid("coding", d.content_hash, seg.start, seg.end, reviewer, code),
                            creatingUser=user_guid[reviewer],
                            creationDateTime=timestamp(decided_at.get((reviewer, seg.id, code))))
                        etree.SubElement(coding, f"{P}CodeRef", targetGUID=code_guids[code])
                        n_cod += 1
                    if seg.id not in anchored:
                        for memo in memos.get(seg.id, []):
                            note_guid = guid("memo", memo.id, d.content_hash, seg.start)
                            etree.SubElement(sel, f"{P}NoteRef", targetGUID=note_guid)
                            notes.append((note_guid, memo))
                        anchored.add(seg.id)
            for seg in doc_segments:  # memos on segments nobody finished hang on the source
                if seg.id not in anchored:
                    for memo in memos.get(seg.id, []):
                        note_guid = guid("memo", memo.id, d.content_hash, seg.start)
                        etree.SubElement(src, f"{P}NoteRef", targetGUID=note_guid)
                        notes.append((note_guid, memo))
            for attr, _name, kind in variables:
                value = (d.attributes or {}).get(attr[5:]) if attr.startswith("attr:") else getattr(d, attr)
                if value is not None and value != "":
                    _variable_value(src, P, var_guid[attr], kind, value)
    if notes:
        el = etree.SubElement(root, f"{P}Notes")
        for note_guid, memo in notes:
            seg = segments.get(memo.segment_id)
            note = etree.SubElement(el, f"{P}Note", guid=note_guid, name=f"Memo av {memo.author}",
                                    creatingUser=user_guid[memo.author], creationDateTime=timestamp(memo.created_at))
            if seg is not None:  # named as everywhere in qualcode: «Fjordvik 2024 plan, §12»
                d = seg.document
                etree.SubElement(note, f"{P}Description").text = segment_ref(d.municipality, d.year, d.doc_type,
                                                                             seg.seq, d.file_name)
            etree.SubElement(note, f"{P}PlainTextContent").text = memo.text
    summary = ExportSummary(len(docs), sum(len(t.children) for t in tree), n_sel, n_cod, reviewers)
    return root, texts, summary


def _variable_value(parent: etree._Element, P: str, var_guid: str, kind: str, value) -> None:
    vv = etree.SubElement(parent, f"{P}VariableValue")
    etree.SubElement(vv, f"{P}VariableRef", targetGUID=var_guid)
    tag = {"Integer": "IntegerValue", "Text": "TextValue"}[kind]
    etree.SubElement(vv, f"{P}{tag}").text = str(int(value)) if kind == "Integer" else str(value)


def export_qdpx(session: Session, project_name: str = "qualcode") -> tuple[bytes, ExportSummary]:
    """The ``.qdpx`` zip: ``project.qde`` plus ``sources/`` with one UTF-8 text per document."""
    root, texts, summary = project_xml(session, project_name)
    validate(root, "project")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("project.qde", ZIP_DATE),
                         etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True),
                         zipfile.ZIP_DEFLATED)
        for path, text in texts.items():
            archive.writestr(zipfile.ZipInfo(path, ZIP_DATE), text.encode("utf-8"),
                             zipfile.ZIP_DEFLATED)
    return buffer.getvalue(), summary


def write_qdpx(store, path: Path, project_name: str | None = None) -> ExportSummary:
    from qualcode.analysis.frame import open_session

    path = Path(path)
    with open_session(store) as session:
        data, summary = export_qdpx(session, project_name or path.stem)
    path.write_bytes(data)
    return summary


def write_qdc(store, path: Path) -> int:
    from qualcode.analysis.frame import open_session

    path = Path(path)
    with open_session(store) as session:
        data = export_qdc(session)
    path.write_bytes(data)
    return data.count(b"<Code ")
