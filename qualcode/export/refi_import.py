"""Read REFI-QDA files (``.qdc`` codebooks, ``.qdpx`` projects) back into a store.

Made for round trips (qualcode → NVivo/ATLAS.ti/MAXQDA → qualcode, or a fresh store
from an export) and tolerant of other tools' files:

- code ids come from the "Kode-ID:" line qualcode writes into descriptions, or are
  made from the names ("Barrierer" / "Økonomiske barrierer" → ``barrierer.okonomiske_barrierer``);
- each text source becomes a document with its text exactly as in the file (offsets
  must keep pointing at the same characters); a source whose text is already in the
  store is left alone, so importing twice changes nothing;
- each coded selection becomes a segment (pages from a "s. 5–6" in its name) and the
  rest of the text is split into paragraph segments; codings become reviewer codings
  by the selection's user, and the segment counts as done by that user.
"""
from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.export.refi_common import (
    CODEBOOK_NS, PROJECT_NS, VARIABLE_ALIASES, RefiError, parse_timestamp, slug, split_mark, validate,
)
from qualcode.store import schema
from qualcode.store.audit import record

ACTOR = "refi-import"
_PAGES = re.compile(r"s\.\s*(\d+)(?:\s*[–-]\s*(\d+))?\s*$")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
_CODE_ID = re.compile(r"^[a-z]+(\.[a-z_]+)+$")  # nested codes keep their depth: theme.code.sub
_THEME_ID = re.compile(r"^[a-z]+$")


@dataclass
class ImportedCode:
    guid: str
    id: str
    theme: str
    name: str
    definition: str
    is_theme: bool = False  # a theme node: a code of its own only if something is coded with it


@dataclass
class ImportResult:
    documents: int = 0
    skipped_documents: int = 0
    segments: int = 0
    codes: int = 0
    codings: int = 0
    reviewers: set[str] = field(default_factory=set)
    memos: int = 0
    warnings: list[str] = field(default_factory=list)


# -- codes -------------------------------------------------------------------------------

def read_codes(codes_el: etree._Element | None, ns: str) -> dict[str, ImportedCode]:
    """GUID → code, for every code node (themes are the top level; deeper levels nest: theme.code.sub)."""
    found: dict[str, ImportedCode] = {}
    if codes_el is None:
        return found
    taken: set[str] = set()

    def theme_id_of(el) -> str:
        _, mark = split_mark(el.findtext(f"{{{ns}}}Description"))
        ident = mark if mark and _THEME_ID.match(mark) else slug(el.get("name", "")).replace("_", "")
        return ident or "tema"

    def walk(el, theme: str, parent: str | None = None) -> None:
        description, mark = split_mark(el.findtext(f"{{{ns}}}Description"))
        if mark and _CODE_ID.match(mark):
            ident = mark
        else:
            ident = f"{parent or theme}.{slug(el.get('name', ''))}"
            base, n = ident, 2
            while ident in taken:
                ident, n = f"{base}_{'x' * (n - 1)}", n + 1  # ids allow only a-z and _
        taken.add(ident)
        found[el.get("guid").strip("{}").lower()] = ImportedCode(el.get("guid"), ident, ident.split(".")[0],
                                                                 el.get("name", ident), description)
        for child in el.findall(f"{{{ns}}}Code"):
            walk(child, theme, ident)

    for top in codes_el.findall(f"{{{ns}}}Code"):
        theme = theme_id_of(top)
        children = top.findall(f"{{{ns}}}Code")
        if not children:
            walk(top, theme)
            continue
        description, _ = split_mark(top.findtext(f"{{{ns}}}Description"))
        # the theme node itself can be coded in other tools: give it a code of its own
        found[top.get("guid").strip("{}").lower()] = ImportedCode(top.get("guid"), f"{theme}.{theme}", theme,
                                                                  top.get("name", theme), description, True)
        for child in children:
            walk(child, theme)
    return found


def store_codes(session: Session, codes: dict[str, ImportedCode], version: str, used: set[str] = frozenset()) -> int:
    """Add codes the store lacks (theme nodes only when ``used`` holds their GUID); codes it has keep
    their names, definitions and version."""
    existing = {c.code: c for c in session.scalars(select(schema.Code))}
    added = 0
    for key, code in codes.items():
        if code.is_theme and key not in used:
            continue
        row = existing.get(code.id)
        if row is None:
            session.add(schema.Code(code=code.id, theme=code.theme, name=code.name, definition=code.definition,
                                    codebook_version=version, active=True))
            existing[code.id] = True
            added += 1
        elif not row.active:
            row.active = True
    return added


def _version(payload: bytes) -> str:
    return "refi-" + hashlib.sha256(payload).hexdigest()[:12]


def import_qdc(session: Session, payload: bytes, name: str = "codebook.qdc") -> ImportResult:
    root = _parse(payload, name)
    if etree.QName(root).namespace != CODEBOOK_NS:
        raise RefiError(f"{name}: not a REFI-QDA codebook (root element {root.tag})")
    validate(root, "codebook")
    codes = read_codes(root.find(f"{{{CODEBOOK_NS}}}Codes"), CODEBOOK_NS)
    result = ImportResult(codes=store_codes(session, codes, _version(payload)))
    record(session, ACTOR, "import", "codebook", name, format="qdc", codes=len(codes), added=result.codes)
    return result


# -- projects ------------------------------------------------------------------------------

def _parse(payload: bytes, name: str) -> etree._Element:
    try:
        return etree.fromstring(payload, etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except etree.XMLSyntaxError as err:
        raise RefiError(f"{name}: not well-formed XML ({err})") from None


def _source_text(src: etree._Element, archive: zipfile.ZipFile, P: str) -> str | None:
    inline = src.find(f"{P}PlainTextContent")
    if inline is not None:
        return inline.text or ""
    path = src.get("plainTextPath")
    if not path:
        return None
    if path.startswith("internal://"):
        member = "sources/" + path[len("internal://"):]
    elif "://" in path:
        return None  # a file on the exporting machine: not in the archive
    else:
        member = posixpath.normpath("sources/" + path.lstrip("/"))
    names = {n.lower(): n for n in archive.namelist()}
    real = names.get(member.lower())
    if real is None:
        return None
    raw = archive.read(real)
    return raw.decode("utf-8-sig")


def _variables(root: etree._Element, P: str) -> dict[str, tuple[str, str]]:
    """Variable GUID → (name, type)."""
    return {v.get("guid").strip("{}").lower(): (v.get("name"), v.get("typeOfVariable"))
            for v in root.iterfind(f"{P}Variables/{P}Variable")}


def _values(el: etree._Element, P: str, variables) -> dict[str, str]:
    out = {}
    for vv in el.findall(f"{P}VariableValue"):
        ref = vv.find(f"{P}VariableRef").get("targetGUID").strip("{}").lower()
        value_el = next((c for c in vv if etree.QName(c).localname != "VariableRef"), None)
        if ref in variables and value_el is not None and value_el.text is not None:
            out[variables[ref][0]] = value_el.text.strip()
    return out


def _pages(name: str | None) -> tuple[int, int] | None:
    m = _PAGES.search(name or "")
    if not m:
        return None
    start = int(m.group(1))
    return start, int(m.group(2) or start)


def _gap_segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Paragraph spans (blank-line separated, surrounding whitespace trimmed) of text[start:end]."""
    spans, pos = [], start
    chunk = text[start:end]
    for m in [*_PARAGRAPH_BREAK.finditer(chunk), None]:
        stop = start + (m.start() if m else len(chunk))
        piece = text[pos:stop]
        body = piece.strip()
        if body:
            lead = len(piece) - len(piece.lstrip())
            spans.append((pos + lead, pos + lead + len(body)))
        if m:
            pos = start + m.end()
    return spans


def import_qdpx(session: Session, payload: bytes, name: str = "project.qdpx") -> ImportResult:
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile:
        raise RefiError(f"{name}: not a .qdpx file (not a zip archive)") from None
    qde = next((n for n in archive.namelist() if n.lower().endswith(".qde")), None)
    if qde is None:
        raise RefiError(f"{name}: no project.qde inside")
    qde_bytes = archive.read(qde)
    root = _parse(qde_bytes, qde)
    if etree.QName(root).namespace != PROJECT_NS:
        raise RefiError(f"{name}: not a REFI-QDA project (root element {root.tag})")
    validate(root, "project")
    P = f"{{{PROJECT_NS}}}"
    result = ImportResult()
    version = _version(qde_bytes)
    codes = read_codes(root.find(f"{P}CodeBook/{P}Codes"), PROJECT_NS)
    used = {ref.get("targetGUID").strip("{}").lower() for ref in root.iterfind(f".//{P}Coding/{P}CodeRef")}
    result.codes = store_codes(session, codes, version, used)
    users = {u.get("guid").strip("{}").lower(): (u.get("name") or u.get("id") or u.get("guid"))
             for u in root.iterfind(f"{P}Users/{P}User")}
    default_user = users.get((root.get("creatingUserGUID") or "").strip("{}").lower(), ACTOR)
    variables = _variables(root, P)
    case_place: dict[str, str] = {}
    for case in root.iterfind(f"{P}Cases/{P}Case"):
        values = _values(case, P, variables)
        place = next((v for k, v in values.items() if VARIABLE_ALIASES.get(k.lower()) == "municipality"), None)
        for ref in case.findall(f"{P}SourceRef"):
            case_place.setdefault(ref.get("targetGUID").strip("{}").lower(), place or case.get("name"))
    notes = {n.get("guid").strip("{}").lower(): n for n in root.iterfind(f"{P}Notes/{P}Note")}
    code_version = {c.code: c.codebook_version for c in session.scalars(select(schema.Code))}
    done: set[tuple[int, str]] = set()

    def mark_done(segment_id: int, reviewer: str, at=None) -> None:
        if (segment_id, reviewer) not in done:
            done.add((segment_id, reviewer))
            session.add(schema.SegmentReview(segment_id=segment_id, reviewer=reviewer,
                                             **({"created_at": at} if at else {})))

    for src in root.iterfind(f"{P}Sources/{P}TextSource"):
        src_name = src.get("name") or src.get("guid")
        text = _source_text(src, archive, P)
        if text is None:
            result.warnings.append(f"{src_name}: text not found in the archive; skipped")
            continue
        if session.scalar(select(schema.Document.id).where(schema.Document.text == text).limit(1)) is not None:
            result.skipped_documents += 1
            continue
        doc = _document(src, src_name, text, P, variables, case_place)
        session.add(doc)
        session.flush()
        result.documents += 1
        whole = len(src.findall(f"{P}Coding"))
        if whole:
            result.warnings.append(f"{src_name}: {whole} coding(s) of the whole source skipped (qualcode codes segments)")
        spans: dict[tuple[int, int], dict] = {}
        for sel in src.findall(f"{P}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            start, end = min(start, end), max(start, end)
            if start < 0 or end > len(text) or start == end:
                result.warnings.append(f"{src_name}: selection {start}–{end} lies outside the text; skipped")
                continue
            span = spans.setdefault((start, end), {"pages": _pages(sel.get("name")), "selections": []})
            span["selections"].append(sel)
        seg_rows = _segments(doc, text, spans)
        session.add_all(seg_rows.values())
        session.flush()
        result.segments += len(seg_rows)
        for span, info in spans.items():
            seg = seg_rows[span]
            for sel in info["selections"]:
                reviewer = users.get((sel.get("creatingUser") or "").strip("{}").lower(), default_user)
                applied = False
                for coding in sel.findall(f"{P}Coding"):
                    ref = coding.find(f"{P}CodeRef").get("targetGUID").strip("{}").lower()
                    code = codes.get(ref)
                    if code is None:
                        result.warnings.append(f"{src_name}: a coding refers to an unknown code; skipped")
                        continue
                    who = users.get((coding.get("creatingUser") or "").strip("{}").lower(), reviewer)
                    kwargs = {"created_at": at} if (at := parse_timestamp(coding.get("creationDateTime"))) else {}
                    session.add(schema.Coding(segment_id=seg.id, code=code.id, source="reviewer", applied=True,
                                              codebook_version=code_version.get(code.id, version), created_by=who,
                                              evidence=[], **kwargs))
                    result.codings += 1
                    result.reviewers.add(who)
                    applied = True
                    if who != reviewer:
                        mark_done(seg.id, who)
                if applied or sel.get("creatingUser"):
                    mark_done(seg.id, reviewer, parse_timestamp(sel.get("creationDateTime")))
                    result.reviewers.add(reviewer)
                for ref in sel.findall(f"{P}NoteRef"):
                    result.memos += _memo(session, notes.get(ref.get("targetGUID").strip("{}").lower()), seg.id,
                                          users, default_user, P)
        first = min(seg_rows.values(), key=lambda s: s.seq, default=None)
        for ref in src.findall(f"{P}NoteRef"):
            if first is not None:
                result.memos += _memo(session, notes.get(ref.get("targetGUID").strip("{}").lower()), first.id,
                                      users, default_user, P)
        record(session, ACTOR, "import", "document", doc.id, file=doc.file_name, segments=len(seg_rows),
               source=name)
    record(session, ACTOR, "import", "project", name, format="qdpx", documents=result.documents,
           skipped=result.skipped_documents, codings=result.codings, codes_added=result.codes,
           reviewers=sorted(result.reviewers))
    return result


def _memo(session: Session, note, segment_id: int, users, default_user: str, P: str) -> int:
    if note is None:
        return 0
    text = note.findtext(f"{P}PlainTextContent")
    if not text:
        return 0
    author = users.get((note.get("creatingUser") or "").strip("{}").lower(), default_user)
    kwargs = {"created_at": at} if (at := parse_timestamp(note.get("creationDateTime"))) else {}
    session.add(schema.Memo(segment_id=segment_id, author=author, text=text, **kwargs))
    return 1


def _document(src, src_name: str, text: str, P: str, variables, case_place) -> schema.Document:
    values = _values(src, P, variables)
    fields: dict = {}
    attributes: dict = {}
    for key, value in values.items():
        target = VARIABLE_ALIASES.get(key.lower())
        if target and target not in fields:
            fields[target] = value
        else:
            attributes[key] = value
    year = fields.get("year")
    try:
        year = int(year) if year not in (None, "") else None
    except ValueError:
        attributes["år"], year = year, None
    municipality = fields.get("municipality") or case_place.get(src.get("guid").strip("{}").lower())
    doc_type = fields.get("doc_type")
    file_name = src_name.rsplit("/", 1)[-1]
    return schema.Document(
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), file_name=file_name,
        source_path=f"refi:{src_name}", municipality=municipality, year=year, doc_type=doc_type,
        size_class=fields.get("size_class"), informant_role=fields.get("informant_role"), attributes=attributes,
        size_bytes=len(text.encode("utf-8")), page_count=1, engine="refi-qda",
        is_transcript=(doc_type or "").lower() in {"intervju", "interview"}, text=text,
    )


def _segments(doc: schema.Document, text: str,
              spans: dict[tuple[int, int], dict]) -> dict[tuple[int, int], schema.Segment]:
    """Segments for the coded spans, and paragraph segments for the text no selection covers."""
    covered = sorted(spans)
    gaps, pos = [], 0
    for start, end in covered:
        if start > pos:
            gaps += _gap_segments(text, pos, start)
        pos = max(pos, end)
    gaps += _gap_segments(text, pos, len(text))
    all_spans = sorted(set(covered) | set(gaps))
    rows: dict[tuple[int, int], schema.Segment] = {}
    page = 1
    interview = doc.is_transcript
    max_page = 1
    for seq, (start, end) in enumerate(all_spans):
        pages = spans.get((start, end), {}).get("pages")
        if pages:
            page_start, page_end = pages
            page = page_end
        else:
            page_start = page_end = page
        max_page = max(max_page, page_end)
        coded = (start, end) in spans
        rows[(start, end)] = schema.Segment(
            document_id=doc.id, seq=seq, kind="turn" if interview and coded else "paragraph", start=start, end=end,
            page_start=page_start, page_end=page_end, text=text[start:end],
            role="informant" if interview and coded else None, codable=True)
    doc.page_count = max_page
    return rows


def import_file(session: Session, path: Path, fmt: str | None = None) -> ImportResult:
    """Import a ``.qdc`` or ``.qdpx`` file (format from ``fmt`` or the file ending)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    payload = path.read_bytes()
    if fmt == "qdc":
        return import_qdc(session, payload, path.name)
    if fmt == "qdpx":
        return import_qdpx(session, payload, path.name)
    raise RefiError(f"unknown format {fmt!r}: use qdc or qdpx")
