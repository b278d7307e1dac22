"""Pseudonymisation: what is replaced, what is kept, and that nothing personal reaches the store or an export."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fixtures.transcripts import KEEP, broken_fnr, make_fnr, write_transcripts
from qualcode.cli import app
from qualcode.documents import ExtractedDocument
from qualcode.extract.text import extract_text
from qualcode.ingest import prepare
from qualcode.paths import DEMO_CORPUS
from qualcode.privacy import NAMES_ENV, fnr_is_valid, pseudonymise_document, pseudonymise_text
from qualcode.store import schema, session_factory

runner = CliRunner()
PLACEHOLDER = re.compile(r"\[(PERSON|TELEFON|E-POST|FØDSELSNUMMER|ADRESSE)(?: \d+)?\]")
# The personal data planted in the demo transcripts (corpus/demo-src/*-intervju-*.md): inputs to look for.
DEMO_PLANTED = ["Turid Nesheim", "Turid", "Nesheim", "Strandveien 4", "14081552348", "412 34 567",
                "turid.nesheim@havoy.kommune.no", "Kjersti Holm", "Kjersti", "+47 934 56 781", "934 56 781",
                "kjersti.holm@fjordvik.kommune.no", "Hilde Marie Sandnes", "Sandnes", "Storgata 12", "Randi Mo",
                "Randi", "Sigrun Aasen", "Aasen", "Kirkevegen 7", "97 65 43 21", "ola.brekke@nordheim.kommune.no",
                "Brekke", "Kari", "Ola"]
DEMO_TRANSCRIPTS = ["havoy-intervju-barnevernleder-2025.txt", "fjordvik-intervju-barnevernleder-2025.docx",
                    "nordheim-intervju-koordinator-2025.pdf"]


def found(identifier: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(identifier)}(?!\w)", text) is not None


def replaced(text: str) -> str:
    return pseudonymise_text(text).text


# -- numbers, e-mail, addresses ----------------------------------------------------------------

def test_fodselsnummer_is_replaced_only_when_both_control_digits_check_out():
    births = ["010190", "311299", "290200", "150815", "451070"]  # the last is a D-number (day + 40)
    for birth in births:
        valid = make_fnr(birth, "123")
        assert fnr_is_valid(valid) and not fnr_is_valid(broken_fnr(valid))
        wrong_first = valid[:9] + str((int(valid[9]) + 1) % 10) + valid[10]
        assert not fnr_is_valid(wrong_first)
        text = f"Nummeret {valid} sto i meldingen, men saksnummer {broken_fnr(valid)} er noe annet."
        out = replaced(text)
        assert valid not in out and "[FØDSELSNUMMER]" in out and broken_fnr(valid) in out
    spaced = make_fnr("010190", "555")
    assert "[FØDSELSNUMMER]" in replaced(f"fnr {spaced[:6]} {spaced[6:]}.")


def test_several_fodselsnummer_are_numbered():
    a, b = make_fnr("010190", "123"), make_fnr("020290", "234")
    out = replaced(f"{a} og {b} og {a} igjen")
    assert out == "[FØDSELSNUMMER 1] og [FØDSELSNUMMER 2] og [FØDSELSNUMMER 1] igjen"


@pytest.mark.parametrize("phone", ["412 34 567", "41234567", "+47 412 34 567", "+4741234567", "0047 412 34 567",
                                   "22 33 44 55", "(+47) 22 33 44 55", "4123 4567"])
def test_norwegian_phone_numbers_are_replaced(phone):
    assert replaced(f"Ring meg på {phone}, takk.") == "Ring meg på [TELEFON 1], takk."


@pytest.mark.parametrize("text", ["Vi fikk 12 500 000 kroner.", "Planen gjelder 2024 2025 og 2026.",
                                  "Barn på 10 12 14 16 og 18 år.", "Overforbruket var 25000000 kr.",
                                  "Organisasjonsnummer 974760673.", "Kontonummer 1234 56 78903.",
                                  "Det kostet Kr 41234567.", "Møtet var 12.03.2024 kl. 10:30."])
def test_amounts_years_and_other_numbers_are_kept(text):
    assert replaced(text) == text


def test_the_same_number_written_differently_keeps_its_placeholder():
    out = replaced("Ring 412 34 567 eller +47 41234567. Kontoret har 22 33 44 55.")
    assert out == "Ring [TELEFON 1] eller [TELEFON 1]. Kontoret har [TELEFON 2]."


def test_email_addresses_are_replaced_and_stay_stable():
    out = replaced("Skriv til ola.nordmann@kommune.no eller post@fjordvik.kommune.no; Ola.Nordmann@kommune.no svarer.")
    assert out == "Skriv til [E-POST 1] eller [E-POST 2]; [E-POST 1] svarer."


@pytest.mark.parametrize("address", ["Storgata 12", "Kirkeveien 5B", "Kirkevegen 7", "Strandveien 4",
                                     "Olav Tryggvasons gate 3", "Bakkeveien 10 A", "Kirkeveien 5B, 0123 Oslo",
                                     "Sjøgata 1, 8006 Bodø"])
def test_street_addresses_are_replaced(address):
    assert replaced(f"Vi holder til i {address}, i andre etasje.") == "Vi holder til i [ADRESSE 1], i andre etasje."


def test_dates_and_streets_without_numbers_are_kept():
    for text in ["Vedtatt i Solbakken 12. februar 2025.", "Vi gikk langs Storgata i går.",
                 "Kapittel 12 handler om tiltak."]:
        assert replaced(text) == text


# -- names -------------------------------------------------------------------------------------

def test_a_person_keeps_one_placeholder_for_full_name_first_name_surname_and_genitive():
    text = ("Kommunedirektøren, Hilde Marie Sandnes, har vært tydelig. Turid Nesheim er helsesykepleier. "
            "Hilde sa ja. Nesheim ringer rundt. Turids kontor er åpent. Sandnes følger opp.")
    result = pseudonymise_text(text)
    assert result.text == ("Kommunedirektøren, [PERSON 1], har vært tydelig. [PERSON 2] er helsesykepleier. "
                           "[PERSON 1] sa ja. [PERSON 2] ringer rundt. [PERSON 2] kontor er åpent. "
                           "[PERSON 1] følger opp.")
    assert sorted(result.mapping()) == [("[PERSON 1]", "person", "Hilde Marie Sandnes"),
                                        ("[PERSON 2]", "person", "Turid Nesheim")]


def test_names_outside_the_first_name_list_are_found_mid_sentence():
    out = replaced("Vi møtte Zainab Hussein i går. Etterpå sa Hussein at det gikk fint. Kontakt Mirela Kovač.")
    assert out == "Vi møtte [PERSON 1] i går. Etterpå sa [PERSON 1] at det gikk fint. Kontakt [PERSON 2]."


def test_a_name_in_an_email_links_to_the_speaker_with_that_first_name():
    result = pseudonymise_text("Ola: Skriv til ola.brekke@nordheim.kommune.no. Brekke svarer raskt.", ["Ola"])
    assert result.text == "[PERSON 1]: Skriv til [E-POST 1]. [PERSON 1] svarer raskt."
    assert result.placeholder_for("Ola") == "[PERSON 1]"


def test_institutions_places_and_programmes_are_never_names():
    text = ("I Fjordvik kommune samarbeider Bufdir, Helsestasjonen, Statsforvalteren, Nav Fjordvik og Barnehuset "
            "om BTI, TIBIR og PMTO. Familiens hus åpner i september. Vi har et nettverk i Indre Dal og bruker "
            "Marte Meo, Heckman-kurven og Kvello-modellen. Fylkesmannen i Nordland ga oss penger i mai.")
    assert replaced(text) == text


def test_first_names_that_are_also_words_are_kept_at_a_sentence_start():
    text = "Dag etter dag kom det meldinger. Per i dag har vi ingen venteliste. Liv og røre i barnehagen."
    assert replaced(text) == text
    assert replaced("Jeg snakket med Liv om det. Per Olsen er rektor.") == \
        "Jeg snakket med [PERSON 1] om det. [PERSON 2] er rektor."


def test_a_names_list_adds_names_detection_would_miss():
    text = "Bamse Brakar har ansvaret. Senere tok Brakar over alt."
    assert replaced(text) == text
    assert pseudonymise_text(text, ["Bamse Brakar"]).text == "[PERSON 1] har ansvaret. Senere tok [PERSON 1] over alt."


def test_offsets_blocks_turns_and_table_cells_follow_the_new_text():
    doc = extract_text("Intervju\n\n| Felt | Verdi |\n|---|---|\n| Kontakt | Kari Holm, 412 34 567 |\n\n"
                       "Kari: Hva gjør du?\n\nOla: Jeg er koordinator, ring 22 33 44 55.")
    from qualcode.extract.transcript import detect_turns

    doc = detect_turns(doc, doc_type="intervju")
    new, mapping = pseudonymise_document(doc)
    assert isinstance(new, ExtractedDocument) and mapping
    for block in new.blocks:
        assert new.text[block.start:block.end].strip() == new.text[block.start:block.end]
    table = next(b for b in new.blocks if b.kind == "table")
    assert table.rows[1] == ("Kontakt", "[PERSON 1], [TELEFON 1]")
    assert [t.speaker for t in new.turns] == ["[PERSON 1]", "[PERSON 2]"]
    assert new.text[new.turns[1].start:new.turns[1].end] == "[PERSON 2]: Jeg er koordinator, ring [TELEFON 2]."


# -- transcripts, the store and exports --------------------------------------------------------

@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_transcripts(tmp_path_factory.mktemp("transcripts"))


def test_no_identifier_survives_extraction_and_no_service_name_is_touched(cases):
    for case in cases:
        original = prepare(case.path, pseudonymise=False)
        prepared = prepare(case.path)
        assert all(found(x, original.document.text) for x in case.identifiers), case.name
        texts = [prepared.document.text] + [s.text for s in prepared.segments]
        texts += [s.speaker or "" for s in prepared.segments]
        leaks = [x for x in case.identifiers if any(found(x, t) for t in texts)]
        assert not leaks, (case.name, leaks)
        for term in case.keep:
            assert prepared.document.text.count(term) == original.document.text.count(term), (case.name, term)
        for seg in prepared.segments:
            assert prepared.document.text[seg.start:seg.end] == seg.text
        in_text = {m.group() for m in PLACEHOLDER.finditer(prepared.document.text)}
        assert in_text == {placeholder for placeholder, _, _ in prepared.pseudonyms}


def test_name_labels_become_placeholders_and_role_labels_stay(cases):
    by_name = {case.name: case for case in cases}
    focus = prepare(by_name["focus"].path)
    speakers = {(t.role, t.speaker) for t in focus.document.turns}
    assert ("interviewer", "Moderator") in speakers
    informants = {s for r, s in speakers if r == "informant"}
    assert len(informants) == 3 and all(PLACEHOLDER.fullmatch(s) for s in informants)
    labels = [s.label for s in by_name["focus"].turns]
    placeholders = [t.speaker for t in focus.document.turns]
    assert len(set(zip(labels, placeholders))) == len(set(labels))  # one placeholder per speaker
    lines = prepare(by_name["txt-lines"].path)
    assert {t.speaker for t in lines.document.turns} == {"Int", "Barnevernleder"}


def test_the_demo_transcripts_keep_no_planted_identifier():
    for name in DEMO_TRANSCRIPTS:
        original = prepare(DEMO_CORPUS / name, pseudonymise=False).document.text
        prepared = prepare(DEMO_CORPUS / name)
        planted = [x for x in DEMO_PLANTED if found(x, original)]
        assert planted, name
        assert not [x for x in planted if found(x, prepared.document.text)], name
        for term in KEEP + ["Havøy", "Skjærvik", "Nordheim", "Familiens hus", "Vestbygda", "Fjordregionen"]:
            assert prepared.document.text.count(term) == original.count(term), (name, term)


def test_plans_are_not_pseudonymised_by_default():
    plan = DEMO_CORPUS / "fjordvik-plan-2024.pdf"
    prepared = prepare(plan)
    assert not prepared.document.is_transcript and not prepared.pseudonyms
    assert "Hilde Marie Sandnes" in prepared.document.text  # the kommunedirektør signs the public plan


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, cases):
    """The demo transcripts (with their manifest rows) and the fixture transcripts, side by side."""
    root = tmp_path_factory.mktemp("corpus")
    demo = root / "demo"
    demo.mkdir()
    rows = list(csv.DictReader((DEMO_CORPUS / "manifest.csv").open(encoding="utf-8")))
    with (demo / "manifest.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["file"] in DEMO_TRANSCRIPTS)
    for name in DEMO_TRANSCRIPTS:
        shutil.copy(DEMO_CORPUS / name, demo / name)
    shutil.copytree(cases[0].path.parent, root / "fixtures")
    return root


@pytest.fixture(scope="module")
def store(corpus, tmp_path_factory, cases):
    db = str(tmp_path_factory.mktemp("store") / "store.db")
    result = runner.invoke(app, ["run", str(corpus), "--db", db, "--workers", "1"])
    assert result.exit_code == 0, result.output
    from qualcode.review.actions import accept

    factory = session_factory(db)
    with factory() as s:
        machine = s.execute(select(schema.Coding.segment_id, schema.Coding.code, schema.Segment.review_version)
                            .join(schema.Segment).where(schema.Segment.role == "informant")).all()
    seen = set()
    for segment_id, code, version in machine:
        if segment_id not in seen:  # one confirmed code per segment puts every quote into the exports
            seen.add(segment_id)
            accept(factory, segment_id, code, "forsker", version)
    return db


def all_identifiers(cases) -> list[str]:
    return DEMO_PLANTED + [x for case in cases for x in case.identifiers]


def test_store_holds_no_identifier_outside_the_pseudonyms_table(store, cases):
    with session_factory(store)() as s:
        docs = s.scalars(select(schema.Document)).all()
        segments = s.scalars(select(schema.Segment)).all()
        audit = [json.dumps(a.detail, ensure_ascii=False) for a in s.scalars(select(schema.AuditEntry))]
        originals = {p.original for p in s.scalars(select(schema.Pseudonym))}
    assert len(docs) == 3 + len(cases) and all(d.is_transcript for d in docs)
    texts = [d.text for d in docs] + [seg.text for seg in segments] + [seg.speaker or "" for seg in segments] + audit
    leaks = sorted({x for x in all_identifiers(cases) for t in texts if found(x, t)})
    assert not leaks
    assert {"Turid Nesheim", "14081552348", "Storgata 12"} <= originals  # the mapping stays local


def test_only_informant_turns_are_coded_with_the_question_as_context(store):
    with session_factory(store)() as s:
        segments = s.scalars(select(schema.Segment)).all()
        coded = set(s.scalars(select(schema.Coding.segment_id).where(schema.Coding.source != "reviewer")))
        docs = {d.id: d for d in s.scalars(select(schema.Document))}
        by_id = {seg.id: seg for seg in segments}
    assert coded and all(by_id[i].role == "informant" and by_id[i].codable for i in coded)
    for seg in segments:
        assert seg.codable == (seg.role == "informant")
        if seg.role == "informant":
            question = by_id[seg.context_segment_id]
            assert question.role == "interviewer" and question.document_id == seg.document_id
            assert question.seq < seg.seq
    demo = {d.file_name: d for d in docs.values()}
    assert demo["havoy-intervju-barnevernleder-2025.txt"].informant_role == "barnevernleder"
    assert demo["nordheim-intervju-koordinator-2025.pdf"].municipality == "Nordheim kommune"


def exported_texts(store: str, folder: Path) -> dict[str, str]:
    qdpx, report_dir, html = folder / "p.qdpx", folder / "csv", folder / "r.html"
    for args in (["export", "--format", "qdpx", "-o", str(qdpx)],
                 ["report", "--format", "csv", "-o", str(report_dir), "--include-machine"],
                 ["report", "--format", "html", "-o", str(html), "--include-machine"]):
        result = runner.invoke(app, [*args, "--db", store])
        assert result.exit_code == 0, result.output
    texts = {}
    with zipfile.ZipFile(qdpx) as archive:
        for name in archive.namelist():
            texts[f"qdpx:{name}"] = archive.read(name).decode("utf-8", errors="replace")
    for path in report_dir.rglob("*.csv"):
        texts[path.name] = path.read_text(encoding="utf-8")
    texts["html"] = html.read_text(encoding="utf-8")
    return texts


def test_exports_hold_no_identifier(store, cases, tmp_path):
    texts = exported_texts(store, tmp_path)
    assert any("[PERSON" in t for t in texts.values())  # the transcripts are in there, pseudonymised
    quotes = "\n".join(texts.values())
    assert "Statsforvalteren" in quotes and "Fjordvik kommune" in quotes
    leaks = sorted({(name, x) for name, t in texts.items() for x in all_identifiers(cases) if found(x, t)})
    assert not leaks


def test_no_pseudonymise_keeps_the_original_text(cases, tmp_path):
    db = str(tmp_path / "raw.db")
    folder = cases[0].path.parent
    result = runner.invoke(app, ["run", str(folder), "--db", db, "--no-code", "--no-pseudonymise"])
    assert result.exit_code == 0, result.output
    with session_factory(db)() as s:
        text = "\n".join(s.scalars(select(schema.Document.text)))
        assert not s.scalars(select(schema.Pseudonym)).all()
    assert all(found(x, text) for case in cases for x in case.identifiers)


def test_names_file_env_and_names_txt_are_all_used(tmp_path, monkeypatch):
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    said = ("I: Hvem har ansvaret for planen hos dere i kommunen?\n\n"
            "IP: Det er Bamse, og Skræk hjelper ham med det meste.\n\n"
            "I: Og hvem andre er med i arbeidsgruppen til daglig?\n\n"
            "IP: Olivenolje er med hele veien, sammen med meg.")
    names = ["Bamse", "Skræk", "Olivenolje"]  # lone nicknames: nothing but a names list can find them
    assert all(found(x, pseudonymise_text(said).text) for x in names)
    (folder / "intervju.txt").write_text(said, encoding="utf-8")
    (folder / "names.txt").write_text("# navn fra samtykkeskjema\nBamse\n", encoding="utf-8")
    given = tmp_path / "navn.txt"
    given.write_text("Skræk\n", encoding="utf-8")
    from_env = tmp_path / "env.txt"
    from_env.write_text("Olivenolje\n", encoding="utf-8")
    monkeypatch.setenv(NAMES_ENV, str(from_env))
    result = runner.invoke(app, ["extract", str(folder / "intervju.txt"), "--names", str(given)])
    assert result.exit_code == 0, result.output
    assert not [x for x in names if found(x, result.output)]
    assert result.output.count("[PERSON") == 3
    db = str(tmp_path / "s.db")
    assert runner.invoke(app, ["run", str(folder), "--db", db, "--no-code"]).exit_code == 0
    with session_factory(db)() as s:
        assert s.scalars(select(schema.Document.file_name)).all() == ["intervju.txt"]  # names.txt is not a document


def test_extract_prints_pseudonymised_turns_as_json_lines(cases):
    case = next(c for c in cases if c.name == "md")
    result = runner.invoke(app, ["extract", str(case.path)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in io.StringIO(result.output)]
    turns = [r for r in rows if r["kind"] == "turn"]
    assert [r["turn"] for r in turns] == list(range(1, len(case.turns) + 1))
    assert [r["timestamp"] for r in turns] == [s.timestamp for s in case.turns]
    assert [r["role"] for r in turns] == [s.role for s in case.turns]
    assert all(PLACEHOLDER.fullmatch(r["speaker"]) for r in turns)
    assert not [x for x in case.identifiers if found(x, result.output)]
    raw = runner.invoke(app, ["extract", str(case.path), "--no-pseudonymise"])
    assert [json.loads(line)["speaker"] for line in io.StringIO(raw.output) if '"turn"' in line] == \
        [s.label for s in case.turns]
