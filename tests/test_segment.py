"""Segmentation: sentence splitting, long-paragraph chunks, kinds, offsets, transcript hook."""
from __future__ import annotations

from fixtures.pdfs import make_pdf, sentences

from qualcode.documents import ExtractedDocument, Turn
from qualcode.extract import extract_file
from qualcode.extract.builder import DocumentBuilder
from qualcode.segment import MAX_SENTENCES, segment_document, split_sentences


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def test_sentence_splitter_respects_norwegian_abbreviations():
    text = ("Kommunen har bl.a. ansvar for tiltak, jf. barnevernsloven § 15-1. Planen gjelder f.eks. skole, "
            "helsestasjon m.m. og omfatter ca. 20 tjenester, dvs. alle. Se kap. 4 og nr. 2 osv. for detaljer! "
            "Hva betyr det? Tiltakene skal evalueres. H. Ibsen skrev om det.")
    assert texts(text) == [
        "Kommunen har bl.a. ansvar for tiltak, jf. barnevernsloven § 15-1.",
        "Planen gjelder f.eks. skole, helsestasjon m.m. og omfatter ca. 20 tjenester, dvs. alle.",
        "Se kap. 4 og nr. 2 osv. for detaljer!",
        "Hva betyr det?",
        "Tiltakene skal evalueres.",
        "H. Ibsen skrev om det.",
    ]
    assert texts("Den 1. januar 2022 trådte reformen i kraft. Den gjelder alle.") == [
        "Den 1. januar 2022 trådte reformen i kraft.", "Den gjelder alle."]


def _doc(*blocks) -> ExtractedDocument:
    builder = DocumentBuilder()
    for kind, text, page in blocks:
        if kind == "table":
            builder.add_table([row.split(" | ") for row in text.split("\n")], page)
        else:
            builder.add(kind, text, page)
    return builder.build(max(p for _, _, p in blocks), "test")


def test_kinds_and_offsets():
    doc = _doc(("heading", "2 Tiltak", 1), ("paragraph", "Kort avsnitt. To setninger.", 1),
               ("list", "• Helsestasjonen\n• Skolen", 1), ("table", "Tiltak | Ansvar\nPMTO | Barnevernet", 2))
    segments = segment_document(doc)
    assert [(s.kind, s.text) for s in segments] == [
        ("heading", "2 Tiltak"), ("paragraph", "Kort avsnitt. To setninger."),
        ("list", "• Helsestasjonen\n• Skolen"), ("table_row", "Tiltak | Ansvar"), ("table_row", "PMTO | Barnevernet"),
    ]
    assert segments[-1].page_start == 2
    for s in segments:
        assert doc.text[s.start:s.end] == s.text


def test_only_long_paragraphs_are_split_into_sentence_runs():
    short = " ".join(sentences("Kort", MAX_SENTENCES))
    long = " ".join(sentences("Lang", 13))
    doc = _doc(("paragraph", short, 1), ("paragraph", long, 1))
    segments = segment_document(doc)
    assert segments[0].text == short
    chunks = segments[1:]
    assert len(chunks) == 2 and all(s.kind == "paragraph" for s in chunks)
    assert " ".join(s.text for s in chunks) == long
    for s in segments:
        assert doc.text[s.start:s.end] == s.text
        assert s.text == s.text.strip()


def test_split_paragraph_chunks_get_their_own_pages(tmp_path):
    first = sentences("Første", 8)
    second = ["samarbeid mellom tjenestene i hele kommunen nå."] + sentences("Andre", 8)
    pdf = make_pdf(tmp_path / "long.pdf", [
        [("para", first[:-1] + [first[-1][:-1] + " og"])],
        [("para", second)],
    ])
    doc = extract_file(pdf)
    segments = segment_document(doc)
    assert len(doc.blocks) == 1 and (doc.blocks[0].page_start, doc.blocks[0].page_end) == (1, 2)
    assert len(segments) >= 2
    assert segments[0].page_start == 1 and segments[-1].page_end == 2
    assert segments[-1].page_start == 2
    for s in segments:
        assert doc.text[s.start:s.end] == s.text


def test_transcript_turns_go_through_the_turn_hook():
    text = "I: Hvordan jobber dere?\n\nA: Vi samarbeider tett."
    doc = ExtractedDocument(text=text, blocks=[], page_count=1, engine="text", is_transcript=True, turns=[
        Turn(0, 23, 1, "I", "interviewer"), Turn(25, len(text), 2, "A", "informant", "00:01:02"),
    ])
    segments = segment_document(doc)
    # the label moves to `speaker`; the segment holds what was said, still a slice of the frozen text
    assert [(s.kind, s.role, s.turn, s.speaker, s.text) for s in segments] == [
        ("turn", "interviewer", 1, "I", "Hvordan jobber dere?"), ("turn", "informant", 2, "A", "Vi samarbeider tett."),
    ]
    assert all(text[s.start:s.end] == s.text for s in segments)
    assert segments[1].timestamp == "00:01:02"
