"""REFI-QDA export (.qdpx, .qdc): schema validity, exact offsets, privacy, and round trips."""
from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from fixtures.store import DOCS, PSEUDONYM_ORIGINAL, build_store
from lxml import etree
from sqlalchemy import select
from typer.testing import CliRunner

from qualcode.analysis.frame import open_session
from qualcode.cli.app import app
from qualcode.export.refi import export_qdc, export_qdpx
from qualcode.export.refi_common import PROJECT_NS, RefiError, schema, split_mark, validate
from qualcode.export.refi_import import import_qdc, import_qdpx
from qualcode.review.labels import labels_by_reviewer
from qualcode.store import schema as db, transaction

P = f"{{{PROJECT_NS}}}"
SHARED_REFI = Path(__file__).resolve().parents[2] / "shared" / "refi"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("refi") / "store.db")
    build_store(path)
    with transaction(path) as session:
        seg = session.scalars(select(db.Segment).where(db.Segment.text.like("Kommunalsjef%"))).one()
        session.add(db.Memo(segment_id=seg.id, author="ola", text="Ansvaret er plassert hos kommunalsjefen."))
    return path


@pytest.fixture(scope="module")
def qdpx(store) -> bytes:
    with open_session(store) as session:
        return export_qdpx(session, "test")[0]


@pytest.fixture(scope="module")
def qdc(store) -> bytes:
    with open_session(store) as session:
        return export_qdc(session)


def project(payload: bytes) -> etree._Element:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return etree.fromstring(archive.read("project.qde"))


def source_texts(payload: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        return {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("sources/")}


def xsd(name: str, shipped: bool) -> etree.XMLSchema:
    if shipped:
        return schema(name)
    if not SHARED_REFI.is_dir():
        pytest.skip("../shared/refi is not beside the repository")
    return etree.XMLSchema(etree.parse(str(SHARED_REFI / ("Project.xsd" if name == "project" else "Codebook.xsd"))))


# -- validity ------------------------------------------------------------------------

@pytest.mark.parametrize("shipped", [True, False], ids=["shipped-xsd", "shared-xsd"])
def test_qdpx_validates_against_project_schema(qdpx, shipped):
    checker = xsd("project", shipped)
    root = project(qdpx)
    assert checker.validate(root), checker.error_log


@pytest.mark.parametrize("shipped", [True, False], ids=["shipped-xsd", "shared-xsd"])
def test_qdc_validates_against_codebook_schema(qdc, shipped):
    checker = xsd("codebook", shipped)
    root = etree.fromstring(qdc)
    assert checker.validate(root), checker.error_log


def test_shipped_schemas_are_the_shared_ones_with_notices():
    shipped = Path(__file__).resolve().parents[1] / "qualcode" / "export" / "schemas"
    for name in ("Project.xsd", "Codebook.xsd"):
        text = (shipped / name).read_text(encoding="utf-8")
        assert "MIT license" in text and "Copyright 2019 REFI" in text
    if SHARED_REFI.is_dir():
        assert (shipped / "Project.xsd").read_bytes() == (SHARED_REFI / "Project.xsd").read_bytes()


def test_validator_rejects_a_broken_project():
    root = etree.Element(f"{P}Project", nsmap={None: PROJECT_NS})  # the required name attribute is missing
    with pytest.raises(RefiError, match="not valid"):
        validate(root, "project")


# -- contents ------------------------------------------------------------------------

def test_archive_layout_and_plain_text_sources(qdpx):
    with zipfile.ZipFile(io.BytesIO(qdpx)) as archive:
        names = archive.namelist()
    assert "project.qde" in names
    texts = source_texts(qdpx)
    assert len(texts) == len(DOCS) and all(n.startswith("sources/") and n.endswith(".txt") for n in texts)
    assert all("\r" not in t for t in texts.values())
    root = project(qdpx)
    for src in root.iter(f"{P}TextSource"):
        assert f"sources/{src.get('plainTextPath').removeprefix('internal://')}" in texts


def test_selections_are_exact_segment_offsets(qdpx, store):
    root = project(qdpx)
    texts = source_texts(qdpx)
    with open_session(store) as session:
        segment_texts = {s.text for s in session.scalars(select(db.Segment))}
    n = 0
    for src in root.iter(f"{P}TextSource"):
        text = texts[f"sources/{src.get('plainTextPath').removeprefix('internal://')}"]
        for sel in src.iter(f"{P}PlainTextSelection"):
            chunk = text[int(sel.get("startPosition")):int(sel.get("endPosition"))]
            assert chunk in segment_texts
            n += 1
    # one selection per (segment, reviewer who marked it done): 14 labelled segments, one of them by two reviewers
    assert n == 15


def test_codings_users_variables_and_cases(qdpx):
    root = project(qdpx)
    users = {u.get("name"): u.get("guid") for u in root.iter(f"{P}User")}
    assert set(users) == {"ola", "kari"}
    codings = list(root.iter(f"{P}Coding"))
    assert len(codings) == 22  # 20 labels; on the double-coded segment ola has 2 codes (one disputed), kari 1
    assert {c.get("creatingUser") for c in codings} == set(users.values())
    code_guids = {c.get("guid") for c in root.iter(f"{P}Code")}
    assert all(c.find(f"{P}CodeRef").get("targetGUID") in code_guids for c in codings)
    variables = {v.get("name"): v.get("typeOfVariable") for v in root.iter(f"{P}Variable")}
    assert variables["kommune"] == "Text" and variables["år"] == "Integer" and "informantrolle" in variables
    assert "fylke" in variables  # an extra manifest column
    intervju = next(s for s in root.iter(f"{P}TextSource") if s.get("name") == "ostby-intervju.txt")
    values = {}
    var_names = {v.get("guid"): v.get("name") for v in root.iter(f"{P}Variable")}
    for vv in intervju.findall(f"{P}VariableValue"):
        values[var_names[vv.find(f"{P}VariableRef").get("targetGUID")]] = vv[1].text
    assert values == {"kommune": "Østby kommune", "år": "2024", "dokumenttype": "intervju",
                      "størrelse": "mellomstor", "informantrolle": "barnevernleder", "fylke": "Vestland"}
    cases = {c.get("name"): len(c.findall(f"{P}SourceRef")) for c in root.iter(f"{P}Case")}
    assert cases == {"Fjordvik kommune": 2, "Nordby kommune": 1, "Østby kommune": 1}


def test_codebook_is_themes_with_child_codes(qdc):
    root = etree.fromstring(qdc)
    ns = "{urn:QDA-XML:codebook:1.0}"
    themes = root.findall(f"{ns}Codes/{ns}Code")
    assert all(t.get("isCodable") == "false" and t.findall(f"{ns}Code") for t in themes)
    plan = next(t for t in themes if split_mark(t.findtext(f"{ns}Description"))[1] == "plan")
    children = [split_mark(c.findtext(f"{ns}Description"))[1] for c in plan.findall(f"{ns}Code")]
    assert children == ["plan.mal", "plan.ansvar", "plan.organisering", "plan.samarbeid"]


def test_guids_are_stable_between_exports(store, qdpx):
    with open_session(store) as session:
        again = export_qdpx(session, "test")[0]
    guids = lambda payload: sorted(el.get("guid") for el in project(payload).iter() if el.get("guid"))  # noqa: E731
    assert guids(again) == guids(qdpx)


def test_pseudonyms_and_local_paths_never_leave(qdpx, qdc):
    for payload in (qdpx, qdc):
        assert PSEUDONYM_ORIGINAL.encode() not in payload
    with zipfile.ZipFile(io.BytesIO(qdpx)) as archive:
        everything = b"".join(archive.read(n) for n in archive.namelist())
    assert PSEUDONYM_ORIGINAL.encode() not in everything
    assert b"/data/" not in everything  # source paths on this machine
    assert "[NAVN-1]" in everything.decode("utf-8")  # the pseudonymised text itself is what goes out


def test_memos_travel_as_notes(qdpx):
    root = project(qdpx)
    notes = list(root.iter(f"{P}Note"))
    assert len(notes) == 1 and "kommunalsjefen" in notes[0].findtext(f"{P}PlainTextContent")
    refs = [r.get("targetGUID") for r in root.iter(f"{P}NoteRef")]
    assert refs == [notes[0].get("guid")]


# -- round trip ----------------------------------------------------------------------

def _documents(session):
    return sorted((d.file_name, d.text, d.municipality, d.year, d.doc_type, d.size_class, d.informant_role,
                   tuple(sorted((d.attributes or {}).items()))) for d in session.scalars(select(db.Document)))


def _codes(session):
    return sorted((c.code, c.theme, c.name, c.definition) for c in session.scalars(select(db.Code).where(db.Code.active)))


def _codings(session):
    """(document text hash, segment start, end, code, reviewer) for every per-reviewer label."""
    segs = {s.id: s for s in session.scalars(select(db.Segment))}
    docs = {d.id: hashlib.sha256(d.text.encode()).hexdigest() for d in session.scalars(select(db.Document))}
    out = set()
    for reviewer, labels in labels_by_reviewer(session).items():
        for seg_id, codes in labels.items():
            s = segs[seg_id]
            out |= {(docs[s.document_id], s.start, s.end, code, reviewer) for code in codes}
            if not codes:
                out.add((docs[s.document_id], s.start, s.end, None, reviewer))
    return out


def test_round_trip_into_a_fresh_store(store, qdpx, tmp_path):
    fresh = str(tmp_path / "fresh.db")
    with transaction(fresh) as session:
        result = import_qdpx(session, qdpx, "test.qdpx")
    assert result.documents == len(DOCS) and result.codings == 22 and result.reviewers == {"ola", "kari"}
    assert result.memos == 1 and not result.warnings
    with open_session(store) as a, open_session(fresh) as b:
        assert _documents(b) == _documents(a)
        assert _codes(b) == _codes(a)
        assert _codings(b) == _codings(a)
        pages = {(s.text, s.page_start, s.page_end) for s in b.scalars(select(db.Segment))
                 if s.id in set().union(*labels_by_reviewer(b).values())}
        assert ("Barneverntjenesten, helsestasjonen og skolen samarbeider i et tverrfaglig team\n"
                "som møtes hver måned.", 2, 3) in pages
        # the imported store exports the same project again (same GUIDs, same selections)
        again = export_qdpx(b, "test")[0]
    sel = lambda payload: sorted((s.get("guid"), s.get("startPosition"), s.get("endPosition"))  # noqa: E731
                                 for s in project(payload).iter(f"{P}PlainTextSelection"))
    assert sel(again) == sel(qdpx)
    with transaction(fresh) as session:  # importing again changes nothing
        second = import_qdpx(session, qdpx, "test.qdpx")
    assert second.documents == 0 and second.skipped_documents == len(DOCS) and second.codings == 0


def test_codebook_round_trip(store, qdc, tmp_path):
    fresh = str(tmp_path / "codes.db")
    with transaction(fresh) as session:
        result = import_qdc(session, qdc, "test.qdc")
    with open_session(store) as a, open_session(fresh) as b:
        assert _codes(b) == _codes(a)
        assert result.codes == len(_codes(a))


def test_import_of_another_tools_project(tmp_path):
    """No qualcode id marks, inline text, overlapping selections, a coded parent code, CRLF-free text."""
    text = "Innledning om planen.\n\nVi mangler penger og folk.\n\nSamarbeidet med skolen er godt."
    start = text.index("Vi mangler")
    end = start + len("Vi mangler penger og folk.")
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="fremmed" creatingUserGUID="11111111-1111-1111-1111-111111111111">
 <Users><User guid="11111111-1111-1111-1111-111111111111" name="Forsker A"/></Users>
 <CodeBook><Codes>
  <Code guid="22222222-2222-2222-2222-222222222222" name="Hindringer" isCodable="true">
   <Code guid="33333333-3333-3333-3333-333333333333" name="Økonomi" isCodable="true"/>
  </Code>
 </Codes></CodeBook>
 <Variables><Variable guid="44444444-4444-4444-4444-444444444444" name="Kommune" typeOfVariable="Text"/></Variables>
 <Sources>
  <TextSource guid="55555555-5555-5555-5555-555555555555" name="Plan A">
   <PlainTextContent>{text}</PlainTextContent>
   <PlainTextSelection guid="66666666-6666-6666-6666-666666666666" startPosition="{start}" endPosition="{end}">
    <Coding guid="77777777-7777-7777-7777-777777777777"><CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="88888888-8888-8888-8888-888888888888" startPosition="{start}" endPosition="{start + 10}">
    <Coding guid="99999999-9999-9999-9999-999999999999"><CodeRef targetGUID="22222222-2222-2222-2222-222222222222"/></Coding>
   </PlainTextSelection>
   <VariableValue><VariableRef targetGUID="44444444-4444-4444-4444-444444444444"/><TextValue>Testvik kommune</TextValue></VariableValue>
  </TextSource>
 </Sources>
</Project>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", xml)
    target = str(tmp_path / "foreign.db")
    with transaction(target) as session:
        result = import_qdpx(session, buffer.getvalue(), "fremmed.qdpx")
    assert result.documents == 1 and result.codings == 2 and result.reviewers == {"Forsker A"}
    with open_session(target) as session:
        doc = session.scalars(select(db.Document)).one()
        assert doc.text == text and doc.municipality == "Testvik kommune" and doc.file_name == "Plan A"
        codes = {c.code: c.name for c in session.scalars(select(db.Code))}
        assert codes == {"hindringer.okonomi": "Økonomi", "hindringer.hindringer": "Hindringer"}
        segs = sorted((s.start, s.end) for s in session.scalars(select(db.Segment)))
        assert (start, end) in segs and (start, start + 10) in segs
        assert (0, len("Innledning om planen.")) in segs  # uncovered text became paragraph segments
        assert (text.index("Samarbeidet"), len(text)) in segs
        labels = labels_by_reviewer(session)["Forsker A"]
        assert sorted(map(sorted, labels.values())) == [["hindringer.hindringer"], ["hindringer.okonomi"]]


def test_import_rejects_what_is_not_refi(tmp_path):
    with transaction(str(tmp_path / "x.db")) as session:
        with pytest.raises(RefiError, match="not a .qdpx"):
            import_qdpx(session, b"plain text", "x.qdpx")
        with pytest.raises(RefiError, match="not a REFI-QDA codebook|not valid"):
            import_qdc(session, b"<CodeBook/>", "x.qdc")


# -- command line ----------------------------------------------------------------------

def test_cli_export_and_import(store, tmp_path):
    runner = CliRunner()
    out = tmp_path / "p.qdpx"
    res = runner.invoke(app, ["export", "--db", store, "--format", "qdpx", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "22 coding" in res.output
    res = runner.invoke(app, ["export", "--db", store, "--format", "qdc", "-o", str(tmp_path / "c.qdc")])
    assert res.exit_code == 0, res.output
    fresh = str(tmp_path / "copy.db")
    res = runner.invoke(app, ["import", "--format", "qdpx", str(out), "--db", fresh])
    assert res.exit_code == 0, res.output
    assert "Imported 5 document(s)" in res.output
    with open_session(store) as a, open_session(fresh) as b:
        assert _codings(b) == _codings(a)
