"""REFI-QDA export: a ``.qdpx`` project (for NVivo, ATLAS.ti, MAXQDA, QualCoder) and a ``.qdc`` codebook.

What goes out:
- every document as a plain-text source (``sources/<guid>.txt``, UTF-8, ``\\n``): the
  frozen text, so selection offsets are exactly the store's segment offsets; the source
  is named ``<file>.txt`` ("plan.pdf.txt") so no importer takes it for a PDF;
- the codebook: each theme a code with its codes as children, nested codes under their
  parent (definitions as descriptions);
- reviewer-confirmed codings: per reviewer, each segment they marked done with at least
  one code is one ``PlainTextSelection`` over the whole segment with a ``Coding`` per code
  (no selection without a coding: importers turn those into empty annotations);
- with ``include_machine``: machine suggestions on segments nobody has reviewed, as codings
  of their own user «qualcode (maskin)», so an unreviewed project still carries its codings;
- reviewers as ``Users``, document attributes as ``Variables`` with per-source values,
  municipalities as ``Cases``;
- memos as notes: each a ``Note`` with its text and its own ``PlainTextSelection`` over
  the segment, referenced from the source (how QualCoder reads annotations), plus one
  project note (``sources/<guid>.txt``, referenced from the project) saying what the export holds.

Never exported: pseudonym mappings, source paths on this machine, rejected or undone codings.
Output is validated against the shipped REFI schemas before anything is written.
"""
from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

import qualcode
from qualcode.analysis.codebook_info import codebook_for_store
from qualcode.analysis.frame import machine_codes_by_segment
from qualcode.analysis.quotes import citation
from qualcode.formats import segment_ref
from qualcode.review.labels import labels_by_reviewer
from qualcode.store import schema
from qualcode.export.refi_common import (
    CODE_ID_MARK, CODEBOOK_NS, EXPORT_NOTE_NAME, MACHINE_USER, PALETTE, PROJECT_NS, THEME_ID_MARK, VARIABLES, guid,
    timestamp, validate, with_mark,
)
from qualcode.files import write_bytes_atomic

ORIGIN = f"qualcode {qualcode.__version__}"
ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed entry dates: the same store exports to the same bytes


@dataclass
class CodeNode:
    id: str
    name: str
    description: str
    children: list["CodeNode"] = field(default_factory=list)
    color: str | None = None
    is_theme: bool = False

    @property
    def guid(self) -> str:
        return guid("theme" if self.is_theme else "code", self.id)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class ExportSummary:
    documents: int
    codes: int
    selections: int
    codings: int
    reviewers: list[str]
    memos: int = 0
    machine_codings: int = 0


def code_tree(session: Session, include_machine: bool = False) -> list[CodeNode]:
    """Themes with their codes (nested codes under their parent): codebook order and names where the
    codebook knows them."""
    book = codebook_for_store(session)
    stored = {c.code: c for c in session.scalars(select(schema.Code).where(schema.Code.active))}
    sources = ["reviewer", "rule", "model"] if include_machine else ["reviewer"]
    used = set(session.scalars(select(schema.Coding.code).where(schema.Coding.source.in_(sources)).distinct()))
    wanted = set(stored) | used
    themes: dict[str, CodeNode] = {}
    nodes: dict[str, CodeNode] = {}
    if book is not None:
        for theme in book.themes:
            node = CodeNode(theme.id, theme.name, theme.description, is_theme=True)
            for code in theme.codes:
                if code.id in wanted or not stored:
                    row = stored.get(code.id)
                    nodes[code.id] = CodeNode(code.id, row.name if row else code.name,
                                              row.definition if row else code.definition)
                    node.children.append(nodes[code.id])
            if node.children:
                themes[theme.id] = node
    for code_id in sorted(wanted - set(nodes)):
        row = stored.get(code_id)
        nodes[code_id] = CodeNode(code_id, row.name if row else code_id, row.definition if row else "")
    for code_id in sorted(wanted):
        node, row = nodes[code_id], stored.get(code_id)
        if any(node is c for t in themes.values() for c in t.children):
            continue
        parent = nodes.get(row.parent) if row is not None and row.parent else None
        if parent is not None and not _under(node, parent):
            parent.children.append(node)
        else:
            theme_id = row.theme if row else code_id.split(".")[0]
            themes.setdefault(theme_id, CodeNode(theme_id, theme_id, "", is_theme=True)).children.append(node)
    for i, theme in enumerate(themes.values()):
        theme.color = PALETTE[i % len(PALETTE)]
        for child in theme.walk():
            child.color = theme.color
    return list(themes.values())


def _under(node: CodeNode, parent: CodeNode) -> bool:
    """True when ``parent`` already sits somewhere below ``node`` (a cycle in the stored parents)."""
    return any(n is parent for n in node.walk())


def _code_element(parent: etree._Element, ns: str, node: CodeNode) -> None:
    el = etree.SubElement(parent, f"{{{ns}}}Code", guid=node.guid, name=node.name,
                          isCodable="false" if node.is_theme else "true")
    if node.color:
        el.set("color", node.color)
    mark = THEME_ID_MARK if node.is_theme else CODE_ID_MARK
    etree.SubElement(el, f"{{{ns}}}Description").text = with_mark(node.description, mark, node.id)
    for child in node.children:
        _code_element(el, ns, child)


def codebook_xml(tree: list[CodeNode]) -> etree._Element:
    """The ``.qdc`` document (codebook namespace)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for theme in tree:
        _code_element(codes, CODEBOOK_NS, theme)
    return root


def export_qdc(session: Session) -> bytes:
    root = codebook_xml(code_tree(session))
    validate(root, "codebook")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def source_name(file_name: str) -> str:
    """The name a source gets: always ending in .txt, since it is plain text whatever it was made from."""
    return file_name if file_name.lower().endswith(".txt") else f"{file_name}.txt"


def _source_names(docs: list[schema.Document]) -> dict[int, str]:
    """Source names, made unique with the year (or id) when two documents share a file name."""
    counts = defaultdict(int)
    for d in docs:
        counts[d.file_name] += 1
    return {d.id: source_name(d.file_name if counts[d.file_name] == 1 else f"{d.year or d.id}/{d.file_name}")
            for d in docs}


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


def _machine_times(session: Session) -> dict[int, object]:
    query = select(schema.Coding.segment_id, schema.Coding.created_at).where(
        schema.Coding.source.in_(["rule", "model"]), schema.Coding.applied, schema.Coding.active)
    times: dict[int, object] = {}
    for seg, at in session.execute(query):
        times[seg] = max(times[seg], at) if seg in times and at is not None and times[seg] is not None else at
    return times


def project_xml(session: Session, project_name: str = "qualcode", include_machine: bool = False
                ) -> tuple[etree._Element, dict[str, str], ExportSummary]:
    """The ``project.qde`` document and the files of ``sources/`` (zip path → text)."""
    P = f"{{{PROJECT_NS}}}"
    tree = code_tree(session, include_machine)
    code_guids = {n.id: n.guid for t in tree for n in t.walk() if not n.is_theme}
    labels = labels_by_reviewer(session)
    reviewers = sorted(labels)
    labelled = {seg for per in labels.values() for seg in per}
    machine = {seg: sorted(c for c in found if c in code_guids)
               for seg, found in machine_codes_by_segment(session).items() if seg not in labelled} if include_machine else {}
    machine = {seg: codes for seg, codes in machine.items() if codes}
    decided_at = _decision_times(session)
    done_at = _done_times(session)
    machine_at = _machine_times(session) if machine else {}
    docs = list(session.scalars(select(schema.Document).order_by(schema.Document.id)))
    names = _source_names(docs)
    memos = defaultdict(list)
    for memo in session.scalars(select(schema.Memo).order_by(schema.Memo.created_at, schema.Memo.id)):
        memos[memo.segment_id].append(memo)
    people = sorted(set(reviewers) | {m.author for ms in memos.values() for m in ms})
    user_guid = {name: guid("user", name) for name in people}
    if machine:
        user_guid[MACHINE_USER] = guid("user", MACHINE_USER)

    root = etree.Element(f"{P}Project", nsmap={None: PROJECT_NS}, name=project_name, origin=ORIGIN,
                         creationDateTime=timestamp(None))
    if user_guid:
        users = etree.SubElement(root, f"{P}Users")
        for name, ident in user_guid.items():
            etree.SubElement(users, f"{P}User", guid=ident, name=name)
    if tree:
        codes = etree.SubElement(etree.SubElement(root, f"{P}CodeBook"), f"{P}Codes")
        for theme in tree:
            _code_element(codes, PROJECT_NS, theme)

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
    notes: list[etree._Element] = []
    n_sel = n_cod = n_machine = 0

    def selection(src, d, seg, user: str, key, at, coded: list[tuple[str, object]]) -> None:
        nonlocal n_sel, n_cod
        sel = etree.SubElement(
            src, f"{P}PlainTextSelection", guid=guid("selection", d.content_hash, seg.start, seg.end, key),
            name=_citation(d, seg), startPosition=str(seg.start), endPosition=str(seg.end),
            creatingUser=user_guid[user], creationDateTime=timestamp(at))
        n_sel += 1
        for code, when in coded:
            coding = etree.SubElement(sel, f"{P}Coding", guid=guid("coding", d.content_hash, seg.start, seg.end, key,
                                                                    code),
                                      creatingUser=user_guid[user], creationDateTime=timestamp(when))
            etree.SubElement(coding, f"{P}CodeRef", targetGUID=code_guids[code])
            n_cod += 1

    if docs:
        sources = etree.SubElement(root, f"{P}Sources")
        for d in docs:
            sguid = guid("source", d.content_hash)
            texts[f"sources/{sguid}.txt"] = d.text
            src = etree.SubElement(sources, f"{P}TextSource", guid=sguid, name=names[d.id],
                                   plainTextPath=f"internal://{sguid}.txt", creationDateTime=timestamp(d.ingested_at))
            note_refs = []
            for seg in d.segments:
                for reviewer in reviewers:
                    coded = [(c, decided_at.get((reviewer, seg.id, c))) for c in sorted(labels[reviewer].get(seg.id, ()))
                             if c in code_guids]
                    if coded:
                        selection(src, d, seg, reviewer, reviewer, done_at.get((reviewer, seg.id)), coded)
                if seg.id in machine:
                    when = machine_at.get(seg.id)
                    selection(src, d, seg, MACHINE_USER, MACHINE_USER, when, [(c, when) for c in machine[seg.id]])
                    n_machine += len(machine[seg.id])
                for memo in memos.get(seg.id, []):
                    note_guid = guid("memo", memo.id, d.content_hash, seg.start)
                    notes.append(_memo_note(P, memo, note_guid, d, seg, user_guid))
                    note_refs.append(note_guid)
            for note_guid in note_refs:
                etree.SubElement(src, f"{P}NoteRef", targetGUID=note_guid)
            for attr, _name, kind in variables:
                value = (d.attributes or {}).get(attr[5:]) if attr.startswith("attr:") else getattr(d, attr)
                if value is not None and value != "":
                    _variable_value(src, P, var_guid[attr], kind, value)
    n_cod -= n_machine
    summary = ExportSummary(len(docs), sum(1 for t in tree for n in t.walk() if not n.is_theme), n_sel, n_cod,
                            reviewers, len(notes), n_machine)
    about = _export_note(P, summary, include_machine, texts)
    etree.SubElement(root, f"{P}Notes").extend([*notes, about])
    etree.SubElement(root, f"{P}NoteRef", targetGUID=about.get("guid"))  # a note on the project as a whole
    return root, texts, summary


def _citation(d: schema.Document, seg: schema.Segment) -> str:
    return citation(d.municipality or d.file_name, doc_type=d.doc_type, is_transcript=d.is_transcript,
                    informant_role=d.informant_role, page_start=seg.page_start, page_end=seg.page_end).strip("()")


def _memo_note(P: str, memo: schema.Memo, note_guid: str, d, seg, user_guid) -> etree._Element:
    """A memo as a note with its text and a selection of its own over the segment: what QualCoder reads as
    an annotation of that span (REFI: text inline or as a file, not both)."""
    note = etree.Element(f"{P}Note", guid=note_guid, name=f"Memo av {memo.author}: {_citation(d, seg)}",
                         creatingUser=user_guid[memo.author], creationDateTime=timestamp(memo.created_at))
    # named as everywhere in qualcode: «Fjordvik 2024 plan, §12»
    etree.SubElement(note, f"{P}Description").text = segment_ref(d.municipality, d.year, d.doc_type, seg.seq,
                                                                 d.file_name)
    etree.SubElement(note, f"{P}PlainTextContent").text = memo.text
    etree.SubElement(note, f"{P}PlainTextSelection", guid=guid("memo-selection", note_guid),
                     startPosition=str(seg.start), endPosition=str(seg.end), creatingUser=user_guid[memo.author],
                     creationDateTime=timestamp(memo.created_at))
    return note


def _export_note(P: str, summary: ExportSummary, include_machine: bool, texts) -> etree._Element:
    """A project note that says what the export holds, as a text file (a journal in QualCoder, a memo in NVivo)."""
    lines = [f"Eksportert fra {ORIGIN}.",
             f"{summary.documents} dokumenter, {summary.codes} koder, {summary.codings} bekreftede kodinger "
             f"av {len(summary.reviewers)} koder(e): én markering per segment og koder som har gått gjennom det.",
             f"{summary.memos} memoer ligger som notater på segmentene sine."]
    if include_machine:
        lines.append(f"{summary.machine_codings} maskinforslag på segmenter ingen har gått gjennom ligger som kodinger "
                     f"av brukeren «{MACHINE_USER}»; de er ikke bekreftet av noen.")
    else:
        lines.append("Maskinforslag er ikke med.")
    note_guid = guid("export-note")
    texts[f"sources/{note_guid}.txt"] = "\n".join(lines) + "\n"
    note = etree.Element(f"{P}Note", guid=note_guid, name=EXPORT_NOTE_NAME, plainTextPath=f"internal://{note_guid}.txt",
                         creationDateTime=timestamp(None))
    etree.SubElement(note, f"{P}Description").text = "Hva eksporten inneholder"
    return note


def _variable_value(parent: etree._Element, P: str, var_guid: str, kind: str, value) -> None:
    vv = etree.SubElement(parent, f"{P}VariableValue")
    etree.SubElement(vv, f"{P}VariableRef", targetGUID=var_guid)
    tag = {"Integer": "IntegerValue", "Text": "TextValue"}[kind]
    etree.SubElement(vv, f"{P}{tag}").text = str(int(value)) if kind == "Integer" else str(value)


def export_qdpx(session: Session, project_name: str = "qualcode",
                include_machine: bool = False) -> tuple[bytes, ExportSummary]:
    """The ``.qdpx`` zip: ``project.qde`` plus ``sources/`` with one UTF-8 text per document and memo."""
    root, texts, summary = project_xml(session, project_name, include_machine)
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


def write_qdpx(store, path: Path, project_name: str | None = None, include_machine: bool = False) -> ExportSummary:
    """Export and write the file whole (a crash leaves the previous file, never half of one)."""
    from qualcode.analysis.frame import open_session

    path = Path(path)
    with open_session(store) as session:
        data, summary = export_qdpx(session, project_name or path.stem, include_machine)
    write_bytes_atomic(path, data)
    return summary


def write_qdc(store, path: Path) -> int:
    from qualcode.analysis.frame import open_session

    path = Path(path)
    with open_session(store) as session:
        data = export_qdc(session)
    write_bytes_atomic(path, data)
    return data.count(b"<Code ")
