"""REFI-QDA import of hostile and foreign files: limits, refusals with one line naming the member,
nothing written (and no new store) when a file is refused; PDF sources, NVivo for Windows text
(BOM, CRLF), ATLAS.ti offsets, deep code trees, letters in code ids, and a QualCoder-style round trip.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fixtures.store import build_store
from lxml import etree
from sqlalchemy import func, select
from typer.testing import CliRunner

from qualcode.analysis.frame import open_session
from qualcode.cli.app import app
from qualcode.export import refi_import
from qualcode.export.refi import export_qdpx
from qualcode.export.refi_common import PROJECT_NS, RefiError
from qualcode.export.refi_import import import_qdpx, read_qdpx
from qualcode.review.labels import labels_by_reviewer
from qualcode.store import schema as db, transaction

P = f"{{{PROJECT_NS}}}"
U1 = "11111111-1111-1111-1111-111111111111"
C1, C2, C3, C4 = (f"2222222{i}-2222-2222-2222-222222222222" for i in range(1, 5))
S1, S2 = "55555555-5555-5555-5555-555555555551", "55555555-5555-5555-5555-555555555552"
SEL1, SEL2 = "66666666-6666-6666-6666-666666666661", "66666666-6666-6666-6666-666666666662"
CODING1, CODING2 = "77777777-7777-7777-7777-777777777771", "77777777-7777-7777-7777-777777777772"
NOTE1 = "88888888-8888-8888-8888-888888888881"
LINK1 = "99999999-9999-9999-9999-999999999991"
TEXT = "Innledning om planen.\n\nVi mangler penger og folk.\n\nSamarbeidet med skolen er godt."


def qde(sources: str, codes: str | None = None, extra: str = "", origin: str = "test") -> str:
    codes = codes if codes is not None else f'<Code guid="{C1}" name="Hindringer" isCodable="true"/>'
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="p" origin="{origin}">
 <Users><User guid="{U1}" name="Forsker A"/></Users>
 <CodeBook><Codes>{codes}</Codes></CodeBook>
 <Sources>{sources}</Sources>{extra}
</Project>"""


def text_source(guid: str = S1, name: str = "Plan A", path: str | None = None, body: str = "", inline=None) -> str:
    attrs = f' plainTextPath="{path}"' if path else ""
    content = f"<PlainTextContent>{inline}</PlainTextContent>" if inline is not None else ""
    return f'<TextSource guid="{guid}" name="{name}"{attrs}>{content}{body}</TextSource>'


def selection(start: int, end: int, guid: str = SEL1, code: str = C1, coding: str = CODING1) -> str:
    return (f'<PlainTextSelection guid="{guid}" startPosition="{start}" endPosition="{end}" creatingUser="{U1}">'
            f'<Coding guid="{coding}" creatingUser="{U1}"><CodeRef targetGUID="{code}"/></Coding>'
            f'</PlainTextSelection>')


def qdpx(project: str | bytes, files: dict[str, bytes | str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", project)
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def counts(store: str) -> tuple[int, int, int]:
    with open_session(store) as s:
        return (s.scalar(select(func.count()).select_from(db.Document)),
                s.scalar(select(func.count()).select_from(db.Coding)),
                s.scalar(select(func.count()).select_from(db.Code)))


# -- refused whole, with the member named ----------------------------------------------------

def test_a_zip_bomb_is_refused_by_its_unpacked_size():
    """A 200 MB source packed into ~200 KB (the probe's case): refused before it is unpacked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde(text_source(path="internal://bomb.txt")))
        with archive.open("sources/bomb.txt", "w") as member:
            chunk = b"a" * (1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    payload = buffer.getvalue()
    assert len(payload) < 1024 * 1024
    with pytest.raises(RefiError, match=r"bomb\.qdpx: sources/bomb\.txt unpacks to 200 MB"):
        read_qdpx(payload, "bomb.qdpx")


def test_an_oversized_project_qde_and_total_expansion_are_refused(monkeypatch):
    monkeypatch.setattr(refi_import, "MAX_QDE_BYTES", 2000)
    big = qde(text_source(inline=TEXT), extra="<Description>" + "x" * 5000 + "</Description>")
    with pytest.raises(RefiError, match=r"p\.qdpx: project\.qde unpacks to"):
        read_qdpx(qdpx(big), "p.qdpx")
    monkeypatch.setattr(refi_import, "MAX_QDE_BYTES", 64 * 1024 * 1024)
    monkeypatch.setattr(refi_import, "MAX_TOTAL_BYTES", 4000)
    sources = "".join(text_source(guid=f"55555555-5555-5555-5555-55555555555{i}", name=f"d{i}",
                                  path=f"internal://d{i}.txt") for i in range(4))
    files = {f"sources/d{i}.txt": "tekst " * 300 for i in range(4)}
    with pytest.raises(RefiError, match="unpacks to more than"):
        read_qdpx(qdpx(qde(sources), files), "p.qdpx")


@pytest.mark.parametrize("data, reason", [
    ("Vi mangler\x00 penger.", r"control character \(U\+0000"),
    ("Vi mangler penger.".encode("utf-16"), "not UTF-8"),
    ("Økonomi er et problem.".encode("latin-1"), "not UTF-8"),
], ids=["nul", "utf16", "latin1"])
def test_text_that_ingest_would_refuse_is_refused_naming_the_member(data, reason):
    project = qde(text_source(path="internal://a.txt"))
    with pytest.raises(RefiError, match=rf"^p\.qdpx: sources/a\.txt: .*{reason}"):
        read_qdpx(qdpx(project, {"sources/a.txt": data}), "p.qdpx")


def test_entity_declarations_are_refused():
    laughs = ('<?xml version="1.0"?>\n<!DOCTYPE Project [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
              + qde(text_source(inline="&b;")).split("?>", 1)[1])
    with pytest.raises(RefiError, match=r"p\.qdpx: project\.qde: declares a DTD or entities"):
        read_qdpx(qdpx(laughs), "p.qdpx")


def test_duplicate_guids_are_refused_naming_the_guid():
    sources = text_source(S1, "A", inline=TEXT) + text_source(S1, "B", inline=TEXT + " Mer.")
    with pytest.raises(RefiError, match=rf"p\.qdpx: project\.qde: GUID {S1} is used twice"):
        read_qdpx(qdpx(qde(sources)), "p.qdpx")
    codes = f'<Code guid="{C1}" name="A" isCodable="true"/><Code guid="{{{C1.upper()}}}" name="B" isCodable="true"/>'
    with pytest.raises(RefiError, match="is used twice"):
        read_qdpx(qdpx(qde(text_source(inline=TEXT), codes)), "p.qdpx")


def test_a_project_whose_sources_are_all_missing_is_refused():
    sources = text_source(S1, "A", path="internal://a.txt") + text_source(S2, "B", path="absolute:///C:/data/b.txt")
    with pytest.raises(RefiError, match=r"none of the 2 source\(s\) has its text.*sources/a\.txt is not in the archive"):
        read_qdpx(qdpx(qde(sources)), "p.qdpx")


def test_a_refused_import_leaves_no_new_store_and_an_old_store_unchanged(tmp_path, new_store):
    bad = tmp_path / "bad.qdpx"
    bad.write_bytes(qdpx(qde(text_source(S1, "A", inline=TEXT) + text_source(S1, "B", inline="x"))))
    runner = CliRunner()
    target = tmp_path / "new.db"
    result = runner.invoke(app, ["import", str(bad), "--db", str(target)])
    assert result.exit_code != 0 and "bad.qdpx: project.qde: GUID" in str(result.exception)
    assert not target.exists() and not list(tmp_path.glob("new.db*"))
    old = new_store()
    build_store(old)
    before = counts(old)
    result = runner.invoke(app, ["import", str(bad), "--db", old])
    assert result.exit_code != 0 and counts(old) == before


def test_a_failure_while_writing_removes_the_new_store(tmp_path, monkeypatch):
    good = tmp_path / "good.qdpx"
    good.write_bytes(qdpx(qde(text_source(inline=TEXT, body=selection(23, 49)))))

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(refi_import, "_segments", broken)
    target = tmp_path / "new.db"
    result = CliRunner().invoke(app, ["import", str(good), "--db", str(target)])
    assert isinstance(result.exception, RuntimeError)
    assert not list(tmp_path.glob("new.db*"))


# -- foreign files ----------------------------------------------------------------------------

def test_pdf_sources_bring_their_text_representation_and_others_are_named(new_store):
    start, end = TEXT.index("Vi mangler"), TEXT.index("Vi mangler") + len("Vi mangler penger og folk.")
    sources = (f'<PDFSource guid="{S1}" name="plan.pdf" path="internal://{S1}.pdf">'
               f'<PDFSelection guid="{SEL2}" page="1" firstX="1" firstY="1" secondX="9" secondY="9">'
               f'<Coding guid="{CODING2}"><CodeRef targetGUID="{C1}"/></Coding></PDFSelection>'
               f'<Representation guid="{S2}" name="plan" plainTextPath="internal://{S2}.txt">'
               f'{selection(start, end)}</Representation></PDFSource>'
               f'<PDFSource guid="33333333-3333-3333-3333-333333333331" name="skannet.pdf" path="internal://x.pdf"/>'
               f'<PictureSource guid="33333333-3333-3333-3333-333333333332" name="kart.png" path="internal://k.png"/>')
    store = new_store()
    with transaction(store) as session:
        result = import_qdpx(session, qdpx(qde(sources), {f"sources/{S2}.txt": TEXT}), "pdf.qdpx")
    assert result.documents == 1 and result.codings == 1
    warnings = "\n".join(result.warnings)
    assert "plan.pdf: 1 coding(s) of areas on PDF pages skipped" in warnings
    assert "skannet.pdf: a PDF without a text representation; not imported" in warnings
    assert "kart.png: a picture; not imported" in warnings
    with open_session(store) as session:
        doc = session.scalars(select(db.Document)).one()
        assert doc.text == TEXT and doc.file_name == "plan.pdf"
        assert {s.text for s in session.scalars(select(db.Segment))} >= {"Vi mangler penger og folk."}


def test_a_project_written_like_nvivo_for_windows(new_store):
    """BOM + CRLF text in "Sources/", upper-case GUIDs in braces, positions counting \\r\\n as two characters,
    and a memo as NVivo links it (a note with a text file, linked to an uncoded selection)."""
    text = TEXT.replace("\n", "\r\n")
    start = text.index("Vi mangler")
    end = start + len("Vi mangler penger og folk.")
    memo_at = text.index("Samarbeidet")
    guid = "{" + S1.upper() + "}"
    body = selection(start, end) + (f'<PlainTextSelection guid="{SEL2}" startPosition="{memo_at}" '
                                    f'endPosition="{len(text)}" creatingUser="{U1}"/>')
    extra = (f'<Notes><Note guid="{NOTE1}" name="Annotasjon" plainTextPath="internal://{NOTE1}.txt" '
             f'creatingUser="{U1}"/></Notes>'
             f'<Links><Link guid="{LINK1}" originGUID="{NOTE1}" targetGUID="{SEL2}"/></Links>')
    project = qde(text_source(guid, "Plan A", path=f"internal://{S1.upper()}.txt", body=body), extra=extra,
                  origin="NVivo 14")
    files = {f"Sources/{S1.upper()}.txt": b"\xef\xbb\xbf" + text.encode("utf-8"),
             f"Sources/{NOTE1}.txt": "Godt samarbeid, men bare med skolen.".encode("utf-8")}
    store = new_store()
    with transaction(store) as session:
        result = import_qdpx(session, qdpx(project.encode("utf-8"), files), "nvivo.qdpx")
    assert result.documents == 1 and result.codings == 1 and result.memos == 1
    with open_session(store) as session:
        doc = session.scalars(select(db.Document)).one()
        segments = {s.text: s for s in session.scalars(select(db.Segment))}
        assert doc.text == text  # unchanged: offsets keep pointing at the same characters
        # \r\n\r\n is a paragraph break: three paragraphs, not one segment
        assert set(segments) == {"Innledning om planen.", "Vi mangler penger og folk.",
                                 "Samarbeidet med skolen er godt."}
        coded = segments["Vi mangler penger og folk."]
        assert labels_by_reviewer(session)["Forsker A"] == {coded.id: {"hindringer.hindringer"}}
        memo = session.scalars(select(db.Memo)).one()
        assert memo.segment_id == segments["Samarbeidet med skolen er godt."].id and memo.author == "Forsker A"
        assert memo.text == "Godt samarbeid, men bare med skolen."


def test_atlas_ti_positions_count_crlf_as_one_character(new_store):
    text = TEXT.replace("\n", "\r\n")
    flat = TEXT  # ATLAS.ti's positions are positions in this text
    start = flat.index("Samarbeidet")
    end = start + len("Samarbeidet med skolen")
    project = qde(text_source(path=f"internal://{S1}.txt", body=selection(start, end)), origin="ATLAS.ti 23")
    store = new_store()
    with transaction(store) as session:
        import_qdpx(session, qdpx(project, {f"sources/{S1}.txt": text}), "atlas.qdpx")
    with open_session(store) as session:
        coded = [s.text for s in session.scalars(select(db.Segment)) if s.id in labels_by_reviewer(session)["Forsker A"]]
    assert coded == ["Samarbeidet med skolen"]


def test_deep_code_trees_are_kept_and_ids_keep_their_letters(new_store, tmp_path):
    codes = (f'<Code guid="{C1}" name="Barrierer" isCodable="false">'
             f' <Code guid="{C2}" name="Økonomi" isCodable="true">'
             f'  <Code guid="{C3}" name="Lønn" isCodable="true">'
             f'   <Code guid="{C4}" name="Género" isCodable="true"/>'
             f'  </Code>'
             f' </Code>'
             f'</Code>')
    start, end = TEXT.index("Vi mangler"), TEXT.index("Vi mangler") + len("Vi mangler penger og folk.")
    project = qde(text_source(inline=TEXT, body=selection(start, end, code=C4)), codes)
    store = new_store()
    with transaction(store) as session:
        import_qdpx(session, qdpx(project), "dyp.qdpx")
    with open_session(store) as session:
        rows = {c.code: (c.name, c.parent) for c in session.scalars(select(db.Code))}
        assert rows == {"barrierer.okonomi": ("Økonomi", None),
                        "barrierer.okonomi.lonn": ("Lønn", "barrierer.okonomi"),
                        "barrierer.okonomi.lonn.genero": ("Género", "barrierer.okonomi.lonn")}
        payload, _ = export_qdpx(session, "igjen")
    root = etree.fromstring(zipfile.ZipFile(io.BytesIO(payload)).read("project.qde"))
    theme = root.find(f"{P}CodeBook/{P}Codes/{P}Code")
    path = [theme.get("name")]
    node = theme
    while node.find(f"{P}Code") is not None:
        node = node.find(f"{P}Code")
        path.append(node.get("name"))
    assert path == ["barrierer", "Økonomi", "Lønn", "Género"]  # four levels out again, not two


# -- round trip ---------------------------------------------------------------------------------

def test_export_import_export_keeps_selections_codings_and_notes(new_store):
    """QualCoder-style round trip: our export → a fresh store → export again gives the same project."""
    store = new_store()
    build_store(store)
    with transaction(store) as session:
        seg = session.scalars(select(db.Segment).where(db.Segment.text.like("Kommunalsjef%"))).one()
        session.add(db.Memo(segment_id=seg.id, author="kari", text="Hvem følger opp i praksis?"))
    with open_session(store) as session:
        first, _ = export_qdpx(session, "runde")
    fresh = new_store()
    with transaction(fresh) as session:
        result = import_qdpx(session, first, "runde.qdpx")
    assert result.memos == 1 and not result.warnings
    with open_session(fresh) as session:
        second, _ = export_qdpx(session, "runde")

    def content(payload: bytes):
        root = etree.fromstring(zipfile.ZipFile(io.BytesIO(payload)).read("project.qde"))
        selections = sorted((s.get("guid"), s.get("startPosition"), s.get("endPosition"), s.get("creatingUser"),
                             tuple(sorted(c.find(f"{P}CodeRef").get("targetGUID") for c in s.findall(f"{P}Coding"))))
                            for src in root.iter(f"{P}TextSource") for s in src.findall(f"{P}PlainTextSelection"))
        notes = sorted((n.findtext(f"{P}PlainTextContent"), n.find(f"{P}PlainTextSelection").get("startPosition"))
                       for n in root.iter(f"{P}Note") if n.find(f"{P}PlainTextSelection") is not None)
        names = sorted(s.get("name") for s in root.iter(f"{P}TextSource"))
        return selections, notes, names
    assert content(second) == content(first)
    assert content(first)[1] == [("Hvem følger opp i praksis?", str(seg.start))]


def test_cli_import_names_what_it_skipped(tmp_path):
    path = tmp_path / "blandet.qdpx"
    sources = text_source(inline=TEXT) + '<AudioSource guid="33333333-3333-3333-3333-333333333333" name="opptak.m4a" path="internal://o.m4a"/>'
    path.write_bytes(qdpx(qde(sources)))
    result = CliRunner().invoke(app, ["import", str(path), "--db", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert "opptak.m4a: an audio file; not imported" in result.output


def test_read_limits_apply_before_reading_the_file(tmp_path, monkeypatch):
    path = tmp_path / "stor.qdpx"
    path.write_bytes(qdpx(qde(text_source(inline=TEXT))))
    monkeypatch.setattr(refi_import, "MAX_FILE_BYTES", 100)
    with pytest.raises(RefiError, match=r"stor\.qdpx: .* larger than"):
        refi_import.read_file(Path(path))
