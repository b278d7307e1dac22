"""Read REFI-QDA files (``.qdc`` codebooks, ``.qdpx`` projects) back into a store.

Made for round trips (qualcode → NVivo/ATLAS.ti/MAXQDA/QualCoder → qualcode, or a fresh
store from an export) and tolerant of other tools' files:

- code ids come from the "Kode-ID:" line qualcode writes into descriptions, or are
  made from the names ("Barrierer" / "Økonomiske barrierer" → ``barrierer.okonomiske_barrierer``);
  deeper levels of a code tree keep their parent code;
- each text source (and the text representation of a PDF source) becomes a document
  with its text exactly as in the file (offsets must keep pointing at the same
  characters); a source whose text is already in the store is left alone, so importing
  twice changes nothing; sources qualcode cannot use (pictures, audio, video, PDFs
  without text) are named in a warning;
- each coded selection becomes a segment (pages from a "s. 5–6" in its name) and the
  rest of the text is split into paragraph segments (blank lines, ``\\n`` or ``\\r\\n``);
  codings become reviewer codings by the selection's user, and the segment counts as
  done by that user;
- notes on selections (QualCoder and qualcode: a note with its own selection; NVivo: a
  link from a note to a selection; MAXQDA: a selection's description) become memos.

A file is read and checked whole before the store is touched (``read_qdpx``, ``read_qdc``):
the archive's members and their total size are limited (a zip bomb or a huge
``project.qde`` is refused), entity declarations, duplicate GUIDs, text that is not
UTF-8 or holds control characters, and a project whose sources are all missing are
refused with one line naming the member.
"""
from __future__ import annotations

import hashlib
import io
from bisect import bisect_left
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from qualcode.export.refi_common import (
    CODEBOOK_NS, EXPORT_NOTE_NAME, MACHINE_USER, PROJECT_NS, VARIABLE_ALIASES, RefiError, parse_timestamp, slug,
    split_mark, validate,
)
from qualcode.store import schema
from qualcode.store.audit import record

ACTOR = "refi-import"
MB = 1024 * 1024
# Limits: generous for real projects (a 1,000-page plan is ~3 MB of text), fatal for bombs.
MAX_FILE_BYTES = 1024 * MB      # the .qdpx/.qdc file itself
MAX_QDE_BYTES = 64 * MB         # project.qde (or a .qdc) once unpacked
MAX_MEMBER_BYTES = 32 * MB      # one source text or note once unpacked
MAX_TOTAL_BYTES = 512 * MB      # everything read from one archive
MAX_MEMBERS = 50_000
MAX_RATIO = 200                 # unpacked/packed size of one member; plain text packs ~3-10×

_PAGES = re.compile(r"s\.\s*(\d+)(?:\s*[–-]\s*(\d+))?\s*$")
# a blank line, whatever the line endings (\n, \r\n from NVivo for Windows, or \r)
_NEWLINE = r"(?:\r?\n|\r(?!\n))"
_PARAGRAPH_BREAK = re.compile(rf"{_NEWLINE}[ \t]*{_NEWLINE}")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # tab, newlines and form feed are text
_CODE_ID = re.compile(r"^[a-z]+(\.[a-z_]+)+$")  # nested codes keep their depth: theme.code.sub
_THEME_ID = re.compile(r"^[a-z]+$")
_DOCUMENT_SUFFIXES = {".pdf", ".docx", ".doc", ".md", ".txt", ".rtf", ".odt"}


def _key(guid: str | None) -> str:
    """GUIDs compare without braces and case ("{ABC-…}" is "abc-…")."""
    return (guid or "").strip().strip("{}").lower()


def _clip(text: str | None, column) -> str | None:
    """Fit a name into its column (PostgreSQL enforces lengths, SQLite does not)."""
    length = getattr(column.type, "length", None)
    if text is None or length is None or len(text) <= length:
        return text
    return text[: length - 1] + "…"


@dataclass
class ImportedCode:
    guid: str
    id: str
    theme: str
    name: str
    definition: str
    is_theme: bool = False  # a theme node: a code of its own only if something is coded with it
    parent: str | None = None  # the code this one sits under (None: directly under its theme)


@dataclass
class ImportResult:
    documents: int = 0
    skipped_documents: int = 0
    segments: int = 0
    codes: int = 0
    codings: int = 0
    reviewers: set[str] = field(default_factory=set)
    memos: int = 0
    machine_codings: int = 0
    warnings: list[str] = field(default_factory=list)


@dataclass
class RefiFile:
    """A checked ``.qdc`` or ``.qdpx``: the parsed XML and every text it needs, read before any write."""
    kind: str  # "qdc" or "qdpx"
    name: str
    root: etree._Element
    version: str
    texts: dict[str, str] = field(default_factory=dict)  # source/note GUID key → text
    missing: dict[str, str] = field(default_factory=dict)  # source GUID key → why its text is absent


# -- reading and checking ----------------------------------------------------------------

class _Archive:
    """A zip read member by member within size limits (declared sizes are not trusted)."""

    def __init__(self, payload: bytes, name: str):
        self.name = name
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(payload))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError):
            raise RefiError(f"{name}: not a .qdpx file (not a zip archive)") from None
        if len(infos) > MAX_MEMBERS:
            raise RefiError(f"{name}: {len(infos)} files in the archive (at most {MAX_MEMBERS}); not imported")
        self.members = {i.filename.lower(): i for i in infos if not i.is_dir()}
        self.used = 0

    def find(self, path: str) -> zipfile.ZipInfo | None:
        return self.members.get(path.lower())

    def read(self, info: zipfile.ZipInfo, limit: int) -> bytes:
        member = info.filename
        if info.file_size > limit:
            raise RefiError(f"{self.name}: {member} unpacks to {info.file_size / MB:.0f} MB "
                            f"(at most {limit / MB:.0f} MB); not imported")
        if info.compress_size and info.file_size > MAX_RATIO * info.compress_size and info.file_size > MB:
            raise RefiError(f"{self.name}: {member} unpacks {info.file_size // info.compress_size}-fold "
                            f"(a zip bomb?); not imported")
        if self.used + info.file_size > MAX_TOTAL_BYTES:
            raise RefiError(f"{self.name}: the archive unpacks to more than {MAX_TOTAL_BYTES / MB:.0f} MB; "
                            "not imported")
        try:
            with self.zip.open(info) as handle:
                data = handle.read(limit + 1)
        except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, NotImplementedError) as err:
            raise RefiError(f"{self.name}: {member} cannot be unpacked ({err}); not imported") from None
        if len(data) > limit:  # the header lied about the size
            raise RefiError(f"{self.name}: {member} unpacks to more than {limit / MB:.0f} MB; not imported")
        self.used += len(data)
        if self.used > MAX_TOTAL_BYTES:
            raise RefiError(f"{self.name}: the archive unpacks to more than {MAX_TOTAL_BYTES / MB:.0f} MB; "
                            "not imported")
        return data


def _parse(payload: bytes, where: str) -> etree._Element:
    """Parse XML without DTDs, entities or network; a document that declares any is refused."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(payload, parser)
    except etree.XMLSyntaxError as err:
        raise RefiError(f"{where}: not well-formed XML ({err})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or b"<!ENTITY" in payload[:65536].upper():
        raise RefiError(f"{where}: declares a DTD or entities (<!DOCTYPE …>), which REFI-QDA files never do; "
                        "not imported")
    return root


def _check_guids(root: etree._Element, where: str) -> None:
    seen: dict[str, str] = {}
    for el in root.iter():
        value = el.get("guid") if isinstance(el.tag, str) else None
        if not value or etree.QName(el).localname == "Representation":  # may repeat its PDF's GUID
            continue
        key = _key(value)
        tag = etree.QName(el).localname
        if key in seen:
            raise RefiError(f"{where}: GUID {value} is used twice (by a {seen[key]} and a {tag}); not imported")
        seen[key] = tag


def _decode(raw: bytes, where: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise RefiError(f"{where}: not UTF-8 text (byte {err.start}); not imported") from None
    bad = _CONTROL.search(text)
    if bad:
        raise RefiError(f"{where}: contains a control character (U+{ord(bad.group()):04X} at character "
                        f"{bad.start()}); not imported")
    return text


def _version(payload: bytes) -> str:
    return "refi-" + hashlib.sha256(payload).hexdigest()[:12]


def read_qdc(payload: bytes, name: str = "codebook.qdc") -> RefiFile:
    if len(payload) > MAX_QDE_BYTES:
        raise RefiError(f"{name}: {len(payload) / MB:.0f} MB is too large for a codebook; not imported")
    root = _parse(payload, name)
    if etree.QName(root).namespace != CODEBOOK_NS:
        raise RefiError(f"{name}: not a REFI-QDA codebook (root element {root.tag})")
    validate(root, "codebook")
    _check_guids(root, name)
    return RefiFile("qdc", name, root, _version(payload))


def read_qdpx(payload: bytes, name: str = "project.qdpx") -> RefiFile:
    """Open, limit, parse, validate and read every text of a ``.qdpx``; raises RefiError naming the problem."""
    archive = _Archive(payload, name)
    qde = next((i for key, i in archive.members.items() if key.endswith(".qde")), None)
    if qde is None:
        raise RefiError(f"{name}: no project.qde inside")
    qde_bytes = archive.read(qde, MAX_QDE_BYTES)
    where = f"{name}: {qde.filename}"
    root = _parse(qde_bytes, where)
    if etree.QName(root).namespace != PROJECT_NS:
        raise RefiError(f"{name}: not a REFI-QDA project (root element {root.tag})")
    validate(root, "project")
    _check_guids(root, where)
    P = f"{{{PROJECT_NS}}}"
    project = RefiFile("qdpx", name, root, _version(qde_bytes))
    text_sources = [(src, src) for src in root.iterfind(f"{P}Sources/{P}TextSource")]
    text_sources += [(pdf, rep) for pdf in root.iterfind(f"{P}Sources/{P}PDFSource")
                     if (rep := pdf.find(f"{P}Representation")) is not None]
    for src, text_el in text_sources:
        text, why = _text_of(text_el, archive, P, name)
        if text is None:
            project.missing[_key(src.get("guid"))] = why
        else:
            project.texts[_key(src.get("guid"))] = text
    if text_sources and not project.texts:
        reasons = sorted(set(project.missing.values()))
        raise RefiError(f"{name}: none of the {len(text_sources)} source(s) has its text in the archive "
                        f"({'; '.join(reasons[:3])}); not imported")
    for note in root.iterfind(f"{P}Notes/{P}Note"):
        if note.find(f"{P}PlainTextContent") is None and note.get("plainTextPath"):
            text, _why = _text_of(note, archive, P, name)
            if text is not None:
                project.texts[_key(note.get("guid"))] = text
    return project


def _text_of(el: etree._Element, archive: _Archive, P: str, name: str) -> tuple[str | None, str]:
    """The plain text of a TextSource-like element: inline, or its ``plainTextPath`` member."""
    inline = el.find(f"{P}PlainTextContent")
    if inline is not None:
        text = inline.text or ""
        bad = _CONTROL.search(text)
        if bad:
            raise RefiError(f"{name}: {el.get('name') or el.get('guid')}: contains a control character "
                            f"(U+{ord(bad.group()):04X}); not imported")
        return text, ""
    path = el.get("plainTextPath")
    if not path:
        return None, "no plain text (only rich text or nothing)"
    if path.startswith("internal://"):
        member = "sources/" + path[len("internal://"):].lstrip("/")
    elif "://" in path:
        return None, f"its text is a file outside the archive ({path.split('://')[0]}://…)"
    else:
        member = posixpath.normpath("sources/" + path.lstrip("/"))
    info = archive.find(member)
    if info is None:
        return None, f"{member} is not in the archive"
    return _decode(archive.read(info, MAX_MEMBER_BYTES), f"{name}: {info.filename}"), ""


def read_file(path: Path, fmt: str | None = None) -> RefiFile:
    """Read and check a ``.qdc`` or ``.qdpx`` file (format from ``fmt`` or the file ending)."""
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in ("qdc", "qdpx"):
        raise RefiError(f"unknown format {fmt!r}: use qdc or qdpx")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RefiError(f"{path.name}: {size / MB:.0f} MB is larger than a REFI-QDA file qualcode imports "
                        f"({MAX_FILE_BYTES / MB:.0f} MB); not imported")
    payload = path.read_bytes()
    return read_qdc(payload, path.name) if fmt == "qdc" else read_qdpx(payload, path.name)


# -- codes -------------------------------------------------------------------------------

def read_codes(codes_el: etree._Element | None, ns: str) -> dict[str, ImportedCode]:
    """GUID key → code, for every code node (themes are the top level; deeper levels nest: theme.code.sub)."""
    found: dict[str, ImportedCode] = {}
    if codes_el is None:
        return found
    taken: set[str] = set()

    def theme_id_of(el) -> str:
        _, mark = split_mark(el.findtext(f"{{{ns}}}Description"))
        ident = mark if mark and _THEME_ID.match(mark) else slug(el.get("name", ""), 30).replace("_", "")
        return ident or "tema"

    def unique(name: str, parent: str | None, theme: str) -> str:
        ident = f"{parent or theme}.{slug(name)}"
        base, n = ident, 2
        while ident in taken:
            ident, n = f"{base}_{'x' * (n - 1)}", n + 1  # ids allow only a-z and _
        return ident

    def walk(el, theme: str, parent: str | None = None) -> None:
        description, mark = split_mark(el.findtext(f"{{{ns}}}Description"))
        ident = mark if mark and _CODE_ID.match(mark) and mark not in taken else unique(el.get("name", ""), parent,
                                                                                         theme)
        taken.add(ident)
        found[_key(el.get("guid"))] = ImportedCode(el.get("guid"), ident, ident.split(".")[0],
                                                   el.get("name") or ident, description, parent=parent)
        for child in el.findall(f"{{{ns}}}Code"):
            walk(child, theme, ident)

    for top in codes_el.findall(f"{{{ns}}}Code"):
        theme = theme_id_of(top)
        children = top.findall(f"{{{ns}}}Code")
        if not children:
            walk(top, theme, None)
            continue
        description, _ = split_mark(top.findtext(f"{{{ns}}}Description"))
        # the theme node itself can be coded in other tools: give it a code of its own
        found[_key(top.get("guid"))] = ImportedCode(top.get("guid"), f"{theme}.{theme}", theme,
                                                    top.get("name") or theme, description, True)
        for child in children:
            walk(child, theme, None)
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
            session.add(schema.Code(code=code.id, theme=code.theme, name=_clip(code.name, schema.Code.name),
                                    definition=code.definition, codebook_version=version, active=True,
                                    parent=code.parent))
            existing[code.id] = True
            added += 1
        elif not row.active:
            row.active = True
    return added


def import_qdc(session: Session, payload: bytes | RefiFile, name: str = "codebook.qdc") -> ImportResult:
    book = payload if isinstance(payload, RefiFile) else read_qdc(payload, name)
    codes = read_codes(book.root.find(f"{{{CODEBOOK_NS}}}Codes"), CODEBOOK_NS)
    result = ImportResult(codes=store_codes(session, codes, book.version))
    record(session, ACTOR, "import", "codebook", book.name, format="qdc", codes=len(codes), added=result.codes)
    return result


# -- projects ------------------------------------------------------------------------------

def _variables(root: etree._Element, P: str) -> dict[str, tuple[str, str]]:
    """Variable GUID key → (name, type)."""
    return {_key(v.get("guid")): (v.get("name"), v.get("typeOfVariable"))
            for v in root.iterfind(f"{P}Variables/{P}Variable")}


def _values(el: etree._Element, P: str, variables) -> dict[str, str]:
    out = {}
    for vv in el.findall(f"{P}VariableValue"):
        ref = _key(vv.find(f"{P}VariableRef").get("targetGUID"))
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


def _file_name(source_name: str) -> str:
    """The document's file name: qualcode exports "plan.pdf" as "plan.pdf.txt" so that no tool takes it for a PDF."""
    name = source_name.rsplit("/", 1)[-1]
    stem = name[:-4] if name.lower().endswith(".txt") else None
    if stem and Path(stem).suffix.lower() in _DOCUMENT_SUFFIXES:
        return stem
    return name


def import_qdpx(session: Session, payload: bytes | RefiFile, name: str = "project.qdpx") -> ImportResult:
    project = payload if isinstance(payload, RefiFile) else read_qdpx(payload, name)
    return _Importer(session, project).run()


class _Importer:
    """Writes one checked project into a session (one transaction, the caller's)."""

    def __init__(self, session: Session, project: RefiFile):
        self.session, self.project, self.root = session, project, project.root
        self.P = P = f"{{{PROJECT_NS}}}"
        self.result = ImportResult()
        self.codes = read_codes(self.root.find(f"{P}CodeBook/{P}Codes"), PROJECT_NS)
        self.users = {_key(u.get("guid")): _clip(u.get("name") or u.get("id") or u.get("guid"),
                                                 schema.SegmentReview.reviewer)
                      for u in self.root.iterfind(f"{P}Users/{P}User")}
        self.default_user = self.users.get(_key(self.root.get("creatingUserGUID")), ACTOR)
        self.variables = _variables(self.root, P)
        self.notes = {_key(n.get("guid")): n for n in self.root.iterfind(f"{P}Notes/{P}Note")}
        # NVivo: a Link from a note (origin) to the selection it annotates (target)
        self.links: dict[str, list[str]] = {}
        for link in self.root.iterfind(f"{P}Links/{P}Link"):
            origin, target = _key(link.get("originGUID")), _key(link.get("targetGUID"))
            if origin in self.notes:
                self.links.setdefault(target, []).append(origin)
            elif target in self.notes:
                self.links.setdefault(origin, []).append(target)
        self.used_notes: set[str] = set()
        self.done: set[tuple[int, str]] = set()
        # ATLAS.ti counts a \r\n line ending as one character (QualCoder's importer knows this too)
        self.crlf_is_one = "atlas" in (self.root.get("origin") or "").lower()

    def user(self, el, fallback: str | None = None) -> str:
        return self.users.get(_key(el.get("creatingUser")), fallback or self.default_user)

    def run(self) -> ImportResult:
        P, result = self.P, self.result
        used = {_key(ref.get("targetGUID")) for ref in self.root.iterfind(f".//{P}Coding/{P}CodeRef")}
        result.codes = store_codes(self.session, self.codes, self.project.version, used)
        self.session.flush()
        self.code_version = {c.code: c.codebook_version for c in self.session.scalars(select(schema.Code))}
        case_place: dict[str, str] = {}
        for case in self.root.iterfind(f"{P}Cases/{P}Case"):
            values = _values(case, P, self.variables)
            place = next((v for k, v in values.items() if VARIABLE_ALIASES.get(k.lower()) == "municipality"), None)
            for ref in case.findall(f"{P}SourceRef"):
                case_place.setdefault(_key(ref.get("targetGUID")), place or case.get("name"))
        for src in self.root.iterfind(f"{P}Sources/*"):
            kind = etree.QName(src).localname
            src_name = src.get("name") or src.get("guid")
            if kind == "TextSource":
                self.source(src, src, src_name, case_place)
            elif kind == "PDFSource":
                areas = len(src.findall(f"{P}PDFSelection"))
                if src.find(f"{P}Representation") is None:
                    result.warnings.append(f"{src_name}: a PDF without a text representation; not imported "
                                           "(import the PDF itself with `qualcode run`)")
                    continue
                if areas:
                    result.warnings.append(f"{src_name}: {areas} coding(s) of areas on PDF pages skipped "
                                           "(the text representation's codings are imported)")
                self.source(src, src.find(f"{P}Representation"), src_name, case_place)
            else:
                label = {"PictureSource": "a picture", "AudioSource": "an audio file",
                         "VideoSource": "a video"}.get(kind, f"a {kind}")
                result.warnings.append(f"{src_name}: {label}; not imported (qualcode codes text)")
        unreferenced = [n for key, n in self.notes.items() if key not in self.used_notes
                        and n.get("name") != EXPORT_NOTE_NAME]
        if unreferenced:
            result.warnings.append(f"{len(unreferenced)} project note(s) not tied to a text were not imported "
                                   "(qualcode keeps memos on segments)")
        record(self.session, ACTOR, "import", "project", self.project.name, format="qdpx",
               documents=result.documents, skipped=result.skipped_documents, codings=result.codings,
               codes_added=result.codes, reviewers=sorted(result.reviewers))
        return result

    def source(self, src, text_el, src_name: str, case_place) -> None:
        P, result, session = self.P, self.result, self.session
        text = self.project.texts.get(_key(src.get("guid")))
        if text is None:
            result.warnings.append(f"{src_name}: {self.project.missing.get(_key(src.get('guid')), 'no text')}; "
                                   "skipped")
            return
        position = _positions(text) if self.crlf_is_one and "\r\n" in text else None
        if session.scalar(select(schema.Document.id).where(schema.Document.text == text).limit(1)) is not None:
            result.skipped_documents += 1
            return
        doc = _document(src, src_name, text, P, self.variables, case_place)
        session.add(doc)
        session.flush()
        result.documents += 1
        whole = len(text_el.findall(f"{P}Coding"))
        if whole:
            result.warnings.append(f"{src_name}: {whole} coding(s) of the whole source skipped (qualcode codes segments)")
        spans: dict[tuple[int, int], dict] = {}

        def span_of(sel) -> tuple[int, int] | None:
            try:
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            except (TypeError, ValueError):
                result.warnings.append(f"{src_name}: a selection without positions; skipped")
                return None
            if position is not None:
                start, end = position(start), position(end)
            start, end = min(start, end), max(start, end)
            if start < 0 or end > len(text) or start == end:
                result.warnings.append(f"{src_name}: selection {start}–{end} lies outside the text; skipped")
                return None
            info = spans.setdefault((start, end), {"pages": _pages(sel.get("name")), "selections": [], "notes": []})
            if info["pages"] is None:
                info["pages"] = _pages(sel.get("name"))
            return start, end

        for sel in text_el.findall(f"{P}PlainTextSelection"):
            span = span_of(sel)
            if span is None:
                continue
            spans[span]["selections"].append(sel)
            for ref in sel.findall(f"{P}NoteRef"):  # a note inside the selection (older qualcode exports)
                spans[span]["notes"].append((_key(ref.get("targetGUID")), self.user(sel)))
            for note_key in self.links.get(_key(sel.get("guid")), []):  # NVivo: Link note → selection
                spans[span]["notes"].append((note_key, self.user(sel)))
            memo = sel.findtext(f"{P}Description")  # MAXQDA: a selection's description is its memo
            if memo and memo.strip() and sel.find(f"{P}Coding") is None:
                spans[span]["notes"].append((None, self.user(sel), memo, sel.get("creationDateTime")))
        source_notes = []
        for ref in text_el.findall(f"{P}NoteRef"):  # QualCoder and qualcode: a note with its own selection
            key = _key(ref.get("targetGUID"))
            note = self.notes.get(key)
            sel = note.find(f"{P}PlainTextSelection") if note is not None else None
            span = span_of(sel) if sel is not None else None
            if span is not None:
                spans[span]["notes"].append((key, self.user(note)))
            else:
                source_notes.append(key)
        seg_rows = _segments(doc, text, spans)
        session.add_all(seg_rows.values())
        session.flush()
        result.segments += len(seg_rows)
        for span, info in spans.items():
            seg = seg_rows[span]
            for sel in info["selections"]:
                self.codings(sel, seg, src_name)
            for note in info["notes"]:
                self.memo(seg.id, *note)
        first = min(seg_rows.values(), key=lambda s: s.seq, default=None)
        for key in source_notes:
            if first is not None:
                self.memo(first.id, key, self.default_user)
        record(session, ACTOR, "import", "document", doc.id, file=doc.file_name, segments=len(seg_rows),
               source=self.project.name)

    def codings(self, sel, seg: schema.Segment, src_name: str) -> None:
        P, result = self.P, self.result
        reviewer = self.user(sel)
        if reviewer == MACHINE_USER:  # qualcode's machine suggestions stay suggestions, confirmed by nobody
            for coding in sel.findall(f"{P}Coding"):
                code = self.codes.get(_key(coding.find(f"{P}CodeRef").get("targetGUID")))
                if code is not None:
                    self.session.add(schema.Coding(segment_id=seg.id, code=code.id, source="rule", applied=True,
                                                   codebook_version=self.code_version.get(code.id),
                                                   created_by=MACHINE_USER, evidence=[]))
                    result.machine_codings += 1
            return
        applied = False
        for coding in sel.findall(f"{P}Coding"):
            code = self.codes.get(_key(coding.find(f"{P}CodeRef").get("targetGUID")))
            if code is None:
                result.warnings.append(f"{src_name}: a coding refers to an unknown code; skipped")
                continue
            who = self.user(coding, reviewer)
            kwargs = {"created_at": at} if (at := parse_timestamp(coding.get("creationDateTime"))) else {}
            self.session.add(schema.Coding(segment_id=seg.id, code=code.id, source="reviewer", applied=True,
                                           codebook_version=self.code_version.get(code.id, self.project.version),
                                           created_by=who, evidence=[], **kwargs))
            result.codings += 1
            result.reviewers.add(who)
            applied = True
            if who != reviewer:
                self.mark_done(seg.id, who)
        if applied:
            self.mark_done(seg.id, reviewer, parse_timestamp(sel.get("creationDateTime")))
            result.reviewers.add(reviewer)

    def mark_done(self, segment_id: int, reviewer: str, at=None) -> None:
        if (segment_id, reviewer) not in self.done:
            self.done.add((segment_id, reviewer))
            self.session.add(schema.SegmentReview(segment_id=segment_id, reviewer=reviewer,
                                                  **({"created_at": at} if at else {})))

    def memo(self, segment_id: int, note_key: str | None, author: str, text: str | None = None,
             when: str | None = None) -> None:
        if note_key is not None:
            if note_key in self.used_notes:
                return
            note = self.notes.get(note_key)
            if note is None:
                return
            self.used_notes.add(note_key)
            text = note.findtext(f"{self.P}PlainTextContent") or self.project.texts.get(note_key)
            author = self.user(note, author)
            when = note.get("creationDateTime")
        if not text or not text.strip():
            return
        kwargs = {"created_at": at} if (at := parse_timestamp(when)) else {}
        self.session.add(schema.Memo(segment_id=segment_id, author=author, text=text, **kwargs))
        self.result.memos += 1


def _positions(text: str):
    """Map a position that counts each \\r\\n as one character to a position in ``text``."""
    collapsed = [m.start() - k for k, m in enumerate(re.finditer("\r\n", text))]  # where each \r\n sits, counted as one
    return lambda p: p + bisect_left(collapsed, p)


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
    municipality = fields.get("municipality") or case_place.get(_key(src.get("guid")))
    doc_type = fields.get("doc_type")
    D = schema.Document
    return schema.Document(
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), file_name=_clip(_file_name(src_name), D.file_name),
        source_path=_clip(f"refi:{src_name}", D.source_path), municipality=_clip(municipality, D.municipality),
        year=year, doc_type=_clip(doc_type, D.doc_type), size_class=_clip(fields.get("size_class"), D.size_class),
        informant_role=_clip(fields.get("informant_role"), D.informant_role), attributes=attributes,
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
        coded = bool(spans.get((start, end), {}).get("selections"))
        rows[(start, end)] = schema.Segment(
            document_id=doc.id, seq=seq, kind="turn" if interview and coded else "paragraph", start=start, end=end,
            page_start=page_start, page_end=page_end, text=text[start:end],
            role="informant" if interview and coded else None, codable=True)
    doc.page_count = max_page
    return rows


def import_file(session: Session, path: Path | RefiFile, fmt: str | None = None) -> ImportResult:
    """Import a ``.qdc`` or ``.qdpx`` file (or one already read with ``read_file``)."""
    refi = path if isinstance(path, RefiFile) else read_file(path, fmt)
    return import_qdc(session, refi) if refi.kind == "qdc" else import_qdpx(session, refi)
