"""Speaker turns: every label convention, roles, timestamps, long turns — and no false turns."""
from __future__ import annotations

import re

import pytest

from fixtures.transcripts import write_plans, write_transcripts
from qualcode.extract import extract_file
from qualcode.extract.text import extract_text
from qualcode.extract.transcript import detect_turns
from qualcode.ingest import prepare
from qualcode.paths import DEMO_CORPUS
from qualcode.segment import MAX_SENTENCES, split_sentences

CONVENTIONS = ["txt", "txt-lines", "focus", "md", "docx", "pdf"]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return {case.name: case for case in write_transcripts(tmp_path_factory.mktemp("transcripts"))}


def detect(text: str, doc_type: str | None = None):
    return detect_turns(extract_text(text), doc_type=doc_type)


@pytest.mark.parametrize("name", CONVENTIONS)
def test_every_turn_is_found_with_its_speaker_role_and_timestamp(cases, name):
    case = cases[name]
    doc = extract_file(case.path)
    assert doc.is_transcript
    assert [(t.speaker, t.role, t.timestamp) for t in doc.turns] == [(s.label, s.role, s.timestamp) for s in case.turns]
    assert [t.turn for t in doc.turns] == list(range(1, len(case.turns) + 1))


@pytest.mark.parametrize("name", CONVENTIONS)
def test_turn_segments_hold_exactly_what_was_said(cases, name):
    """No label, timestamp or note inside a turn, nothing said lost, and offsets exact."""
    case = cases[name]
    prepared = prepare(case.path, pseudonymise=False)
    doc = prepared.document
    for seg in prepared.segments:
        assert doc.text[seg.start:seg.end] == seg.text
    for spoken, turn in zip(case.turns, doc.turns):
        segments = [s for s in prepared.segments if s.turn == turn.turn]
        assert {(s.kind, s.role, s.speaker, s.timestamp) for s in segments} == {
            ("turn", spoken.role, spoken.label, spoken.timestamp)}
        assert " ".join(s.text for s in segments).split() == spoken.text.split()


def test_a_long_turn_is_split_at_its_paragraphs_keeping_the_turn(cases):
    case = cases["txt"]
    prepared = prepare(case.path, pseudonymise=False)
    long_turn = max(case.turns, key=lambda s: len(s.text))
    number = case.turns.index(long_turn) + 1
    pieces = [s.text for s in prepared.segments if s.turn == number]
    paragraphs = long_turn.text.split("\n\n")
    assert len(split_sentences(long_turn.text)) > MAX_SENTENCES and len(paragraphs) > 1
    assert [p.split() for p in pieces] == [p.split() for p in paragraphs]


def test_a_long_single_paragraph_is_cut_into_sentence_runs_across_the_page_break(cases):
    case = cases["pdf"]
    prepared = prepare(case.path, pseudonymise=False)
    long_turn = max(case.turns, key=lambda s: len(s.text))
    number = case.turns.index(long_turn) + 1
    pieces = [s for s in prepared.segments if s.turn == number]
    assert len(pieces) >= 2
    assert all(len(split_sentences(p.text)) <= MAX_SENTENCES for p in pieces)
    assert pieces[0].page_start < pieces[-1].page_end  # the answer runs onto the next page


def test_text_outside_turns_becomes_uncoded_notes(cases, db):
    prepared = prepare(cases["txt"].path, pseudonymise=False)
    notes = [s.text for s in prepared.segments if s.kind == "note"]
    assert notes[0].startswith("INTERVJU 4") and "Koder:" in notes[0]
    assert notes[-1] == "[Slutt på opptak]"
    assert all(s.role is None for s in prepared.segments if s.kind == "note")


@pytest.mark.parametrize("text, expected", [
    # role in brackets after a name label: it beats the question count
    ("Kari (informant): Jeg har jobbet her i ti år nå, og jeg liker det godt.\n\n"
     "Ola (intervjuer): Hva har endret seg mest i den tiden du har vært her?\n\n"
     "Kari (informant): Vi samarbeider mye mer med skolen enn før. Hvorfor? Fordi vi må.\n\n"
     "Ola (intervjuer): Hvordan merker familiene det i hverdagen sin?",
     [("Kari", "informant", None), ("Ola", "interviewer", None)] * 2),
    # a timestamp on its own line above the label, and one between label and colon
    ("[00:00:05]\nI: Kan du fortelle litt om jobben din og tjenesten du leder?\n\n"
     "[00:00:12]\nIP: Jeg leder barneverntjenesten og har gjort det i fire år.\n\n"
     "I [00:01:00]: Hva er den største utfordringen i det daglige arbeidet?\n\n"
     "IP [00:01:09]: Kapasiteten, helt klart, og at det forebyggende ryker først.",
     [("I", "interviewer", "00:00:05"), ("IP", "informant", "00:00:12"),
      ("I", "interviewer", "00:01:00"), ("IP", "informant", "00:01:09")]),
    # initials as labels: whoever asks is the interviewer, even when not first
    ("KH: Takk, det er fint å være med på dette prosjektet her i dag.\n\n"
     "OB: Så bra. Hva er rollen din i planarbeidet i kommunen?\n\n"
     "KH: Jeg er koordinator og skriver det meste av planen selv.\n\n"
     "OB: Hvem andre er med i arbeidsgruppen sammen med deg?\n\n"
     "KH: Helsestasjonen, skolene og barneverntjenesten er med hele veien.",
     [("KH", "informant", None), ("OB", "interviewer", None)] * 2 + [("KH", "informant", None)]),
    # numbered informants and an interviewer abbreviation, with (mm:ss) before the label
    ("(00:10) Int: Hva betyr tidlig innsats for dere i det daglige arbeidet?\n\n"
     "(00:20) IP1: At vi ser barna før det går galt for dem og familien.\n\n"
     "(00:31) IP2: Og at vi tør å spørre foreldrene om det vi ser hos barna.\n\n"
     "(00:45) Int: Hva hindrer dere mest i å få det til i praksis?",
     [("Int", "interviewer", "00:10"), ("IP1", "informant", "00:20"), ("IP2", "informant", "00:31"),
      ("Int", "interviewer", "00:45")]),
])
def test_label_conventions(text, expected):
    doc = detect(text)
    assert doc.is_transcript
    assert [(t.speaker, t.role, t.timestamp) for t in doc.turns] == expected


def test_turns_a_pdf_ran_together_are_split_at_their_timestamps():
    text = ("00:00:05 Kari: Hva gjør du i kommunen? "
            "00:00:09 Ola: Jeg er koordinator for planen og har vært det lenge. "
            "00:00:20 Kari: Hvordan går det med arbeidet så langt? 00:00:24 Ola: Det går bra, men vi mangler folk.")
    doc = detect(text)
    assert [(t.speaker, t.timestamp) for t in doc.turns] == [
        ("Kari", "00:00:05"), ("Ola", "00:00:09"), ("Kari", "00:00:20"), ("Ola", "00:00:24")]
    assert doc.text[doc.turns[1].start:doc.turns[1].end].endswith("lenge.")


def test_colons_inside_sentences_and_plan_words_never_start_a_turn():
    said = [
        ("I", "Hva betyr forebygging for dere i praksis, sånn helt konkret?"),
        ("IP", "Jeg sier det sånn: vi må komme tidligere inn.\nMålet er klart: de riktige barna skal komme til "
               "oss.\nHelsestasjonen: de ser alle familiene.\nSkolen: der ser vi dem hver dag."),
        ("I", "Hva står det i planen om dette?"),
        ("IP", "Jeg leser opp derfra.\n\nMål: færre barn skal trenge hjelp fra barnevernet.\n\n"
               "Tiltak: foreldreveiledning for alle.\nKoordinator: enhetsleder for familieteamet.\n\n"
               "Merk: det er kommunens plan, ikke vår."),
        ("I", "Takk. Er det noe mer du vil si om det?"),
        ("IP", "Nei, det var det jeg hadde: takk for at jeg fikk være med."),
    ]
    doc = detect("\n\n".join(f"{label}: {text}" for label, text in said))
    assert [t.speaker for t in doc.turns] == [label for label, _ in said]
    for turn, (_, text) in zip(doc.turns, said):
        assert doc.text[turn.start:turn.end].split()[1:] == text.split()


def test_plans_with_label_like_lines_are_never_transcripts(tmp_path):
    for path in write_plans(tmp_path):
        doc = extract_file(path)
        assert not doc.is_transcript and not doc.turns, path.name


def test_the_demo_plans_are_never_transcripts():
    plans = sorted(DEMO_CORPUS.glob("*plan*.pdf"))
    assert len(plans) == 6
    for path in plans:
        doc = extract_file(path)
        assert not doc.is_transcript and not doc.turns, path.name


def test_the_manifest_type_decides_when_the_labels_are_too_few():
    text = "I: Hvordan går det?\n\nIP: Bra, takk."
    assert not detect(text).is_transcript
    forced = detect(text, doc_type="intervju")
    assert forced.is_transcript and [t.role for t in forced.turns] == ["interviewer", "informant"]
    unlabelled = detect("Et referat av samtalen uten talere.\n\nEnda et avsnitt.", doc_type="intervju")
    assert unlabelled.is_transcript and not unlabelled.turns and unlabelled.warnings


def test_a_plan_type_in_the_manifest_skips_turn_detection(cases):
    assert not extract_file(cases["txt"].path, doc_type="plan").is_transcript


def _source_turns(pattern: str, text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(pattern, text, re.MULTILINE)]


@pytest.mark.parametrize("file, source, pattern, interviewer", [
    ("havoy-intervju-barnevernleder-2025.txt", None, r"^\[\d\d:\d\d:\d\d\] (I|IP):", "I"),
    ("fjordvik-intervju-barnevernleder-2025.docx", "fjordvik-intervju-2025.md", r"^\*\*(\w+):\*\*", "Intervjuer"),
    ("nordheim-intervju-koordinator-2025.pdf", "nordheim-intervju-2025.md", r"^\d\d:\d\d:\d\d (\w+):", "Kari"),
])
def test_the_demo_transcripts_are_detected_turn_by_turn(file, source, pattern, interviewer):
    """Each demo convention: the turns found are exactly the labelled paragraphs of its source."""
    path = DEMO_CORPUS / file
    src = path if source is None else DEMO_CORPUS.parent / "demo-src" / source
    expected = _source_turns(pattern, src.read_text(encoding="utf-8"))
    doc = extract_file(path)
    assert doc.is_transcript
    assert [t.speaker for t in doc.turns] == expected
    assert all((t.role == "interviewer") == (t.speaker == interviewer) for t in doc.turns)
