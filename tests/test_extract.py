"""Extraction: PDF layout (headers, columns, tables, page breaks), DOCX, text, bad input."""
from __future__ import annotations

import pytest
from fixtures.pdfs import make_pdf, make_scanned_pdf, sentences

from qualcode.extract import ExtractionError, extract_file
from qualcode.extract.normalize import Lexicon, join_lines, normalize_line, normalize_text
from qualcode.segment import segment_document


def blocks(doc):
    return [(b.kind, doc.text[b.start:b.end]) for b in doc.blocks]


def assert_offsets(doc):
    for b in doc.blocks:
        assert doc.text[b.start:b.end].strip() == doc.text[b.start:b.end] != ""
    for s in segment_document(doc):
        assert doc.text[s.start:s.end] == s.text


# --- normalisation -------------------------------------------------------------------

def test_nfkc_ligatures_soft_hyphens_and_bullets_are_normalised():
    assert normalize_line("ﬁnne ﬂere tilbud") == "finne flere tilbud"
    assert normalize_line("beskyt\u00adtelse\u00a0og\u200b omsorg") == "beskyttelse og omsorg"
    assert normalize_line("Samfunnsforsk\ufffening") == "Samfunnsforskning"
    assert normalize_line("(cid:127) Helsestasjonen") == "• Helsestasjonen"
    assert normalize_line("▪  Skolen") == "• Skolen"
    assert normalize_text("linje en\r\nlinje to\rlinje tre") == "linje en\nlinje to\nlinje tre"
    # pdfium marks a line-end hyphen as \x02 / U+FFFE: it stays a hyphenation point
    assert join_lines([normalize_line("Samfunnsforsk\x02"), "ning"]) == "Samfunnsforskning"
    assert join_lines(["beskyt\u00ad", "telse"]) == "beskyttelse"


@pytest.mark.parametrize("left, right, expected", [
    ("beskyttel-", "se av barn", "beskyttelse av barn"),
    ("barne-", "og ungdomstjenester", "barne- og ungdomstjenester"),
    ("helse-", "eller omsorgstjenester", "helse- eller omsorgstjenester"),
    ("etter § 4-", "12 i loven", "etter § 4-12 i loven"),
    ("Sør-", "Trøndelag", "Sør-Trøndelag"),
    ("NAV-", "kontoret", "NAV-kontoret"),
    ("Nav-", "loven", "Nav-loven"),
    ("tverr-", "faglig", "tverrfaglig"),
    ("se https://www.bufdir.no/veileder-", "for-kommuner her", "se https://www.bufdir.no/veileder-for-kommuner her"),
    ("se (https://www.l", "arvik-kommune.no/plan) her", "se (https://www.larvik-kommune.no/plan) her"),
    ("se http", "s://www.nav.no her", "se https://www.nav.no her"),
])
def test_line_end_hyphens_joined_or_kept_on_evidence(left, right, expected):
    lexicon = Lexicon(["Familien får hjelp fra Nav og barnevernet.", "Et tverrfaglig team møtes."])
    assert join_lines([left, right], lexicon) == expected


def test_hyphenated_spelling_used_elsewhere_is_kept():
    lexicon = Lexicon(["Vi bruker modellen Familie-Trivsel i alle skoler.", "familie-trivsel er viktig"])
    assert join_lines(["familie-", "trivsel"], lexicon) == "familie-trivsel"
    assert join_lines(["familie-", "trivsel"], Lexicon()) == "familietrivsel"


# --- PDF layout --------------------------------------------------------------------

def test_pdf_hyphenation_repaired_and_real_hyphens_kept(tmp_path):
    pdf = make_pdf(tmp_path / "h.pdf", [[
        ("para", ["Barnevernet skal sikre beskyttel-", "se av barn og unge i barne-", "og ungdomstjenester etter Nav-",
                  "loven og § 4-", "12 i Sør-", "Trøndelag."]),
        ("para", ["Kommunen samarbeider med Nav om tiltak for familier."]),
    ]])
    doc = extract_file(pdf)
    assert blocks(doc)[0] == ("paragraph", "Barnevernet skal sikre beskyttelse av barn og unge i barne- og "
                                           "ungdomstjenester etter Nav-loven og § 4-12 i Sør-Trøndelag.")
    assert_offsets(doc)


def test_running_headers_footers_and_page_numbers_dropped(tmp_path):
    topics = ["forebygging", "tidlig innsats", "samarbeid", "kompetanse"]
    texts = [f"Denne siden handler om {topic}." for topic in topics]
    pages = [[("para", [text])] for text in texts]
    for footer in ("Side {page}", "Side {page} av {pages}", "- {page} -", "{page}"):
        doc = extract_file(make_pdf(tmp_path / "hf.pdf", pages, header="Testvik kommune   Plan for forebygging",
                                    footer=footer))
        assert "Testvik kommune" not in doc.text
        assert "Plan for forebygging" not in doc.text
        assert [t for _, t in blocks(doc)] == texts


def test_two_columns_read_column_by_column(tmp_path):
    left = ["Venstre kolonne begynner med dette avsnittet som", "fortsetter over flere linjer i kolonnen til",
            "venstre og slutter med et punktum."]
    right = ["Høyre kolonne har et eget avsnitt med", "flere linjer som ikke skal blandes med",
             "venstre kolonne i det hele tatt."]
    doc = extract_file(make_pdf(tmp_path / "cols.pdf", [
        [("heading", "Tittel over begge kolonner"),
         ("para", ["Et bredt avsnitt over hele siden kommer først, før kolonnene begynner."])],
        {"left": [("para", left), ("para", ["Nytt avsnitt i venstre kolonne som fortsetter", "i neste kolonne og"])],
         "right": [("para", ["går videre her i høyre kolonne til det er slutt."]), ("para", right)]},
    ]))
    texts = [t for _, t in blocks(doc)]
    assert texts[2:] == [
        " ".join(left),
        "Nytt avsnitt i venstre kolonne som fortsetter i neste kolonne og går videre her i høyre kolonne til det er slutt.",
        " ".join(right),
    ]


def test_paragraph_continuing_across_page_break_is_one_block(tmp_path):
    doc = extract_file(make_pdf(tmp_path / "pb.pdf", [
        [("para", sentences("Første", 2)), ("para", ["Dette avsnittet fortsetter på neste side og handler om"])],
        [("para", ["samarbeid mellom tjenestene i kommunen."]), ("para", ["Et nytt avsnitt starter her."])],
    ], header="Rapport om forebygging"))
    joined = [b for b in doc.blocks if doc.text[b.start:b.end].startswith("Dette avsnittet")]
    assert len(joined) == 1
    block = joined[0]
    assert doc.text[block.start:block.end] == ("Dette avsnittet fortsetter på neste side og handler om "
                                               "samarbeid mellom tjenestene i kommunen.")
    assert (block.page_start, block.page_end) == (1, 2)
    segment = next(s for s in segment_document(doc) if s.start == block.start)
    assert (segment.page_start, segment.page_end) == (1, 2)


def test_ruled_table_is_a_table_block_with_rows(tmp_path):
    rows = [["Kommune", "Meldinger 2022", "Endring"], ["Testvik", "107", "3,1 %"], ["Nordby", "119", "5,2 %"]]
    doc = extract_file(make_pdf(tmp_path / "t.pdf", [[
        ("para", ["Tabellen viser meldinger per kommune."]), ("table", rows), ("para", ["Teksten fortsetter etter tabellen."]),
    ]]))
    assert [k for k, _ in blocks(doc)] == ["paragraph", "table", "paragraph"]
    table = doc.blocks[1]
    assert [list(r) for r in table.rows] == rows
    assert doc.text[table.start:table.end] == "Kommune | Meldinger 2022 | Endring\nTestvik | 107 | 3,1 %\nNordby | 119 | 5,2 %"
    assert "Testvik" not in doc.text[: table.start] + doc.text[table.end:]


def test_unruled_table_rows_become_a_table_block(tmp_path):
    rows = [["Tiltak", "Ansvar", "Frist"], ["Foreldreveiledning", "Helsestasjon", "2025"], ["PMTO", "Barnevernet", "2026"]]
    doc = extract_file(make_pdf(tmp_path / "g.pdf", [[
        ("para", ["Tiltakene i planen er:"]), ("grid", rows), ("para", ["Teksten fortsetter."]),
    ]]))
    assert [k for k, _ in blocks(doc)] == ["paragraph", "table", "paragraph"]
    assert [list(r) for r in doc.blocks[1].rows] == rows


def test_table_split_over_pages_is_one_block_without_repeated_header(tmp_path):
    head = ["Kommune", "Meldinger"]
    doc = extract_file(make_pdf(tmp_path / "t2.pdf", [
        [("para", ["Tabell over to sider."]), ("table", [head, ["Testvik", "107"]])],
        [("table", [head, ["Nordby", "119"], ["Sørby", "121"]]), ("para", ["Slutt."])],
    ]))
    tables = [b for b in doc.blocks if b.kind == "table"]
    assert len(tables) == 1
    assert [list(r) for r in tables[0].rows] == [head, ["Testvik", "107"], ["Nordby", "119"], ["Sørby", "121"]]
    assert (tables[0].page_start, tables[0].page_end) == (1, 2)


def test_headings_and_bullet_list_blocks(tmp_path):
    doc = extract_file(make_pdf(tmp_path / "l.pdf", [[
        ("heading", "2 Tiltak i kommunen"),
        ("para", ["Kommunen har flere tiltak:"]),
        ("bullets", [["Helsestasjonen følger opp alle", "familier med nyfødte."], ["Skolen har ansvar for", "mobbing."]]),
        ("para", ["Etter listen kommer et vanlig avsnitt."]),
    ]]))
    assert blocks(doc) == [
        ("heading", "2 Tiltak i kommunen"),
        ("paragraph", "Kommunen har flere tiltak:"),
        ("list", "• Helsestasjonen følger opp alle familier med nyfødte.\n• Skolen har ansvar for mobbing."),
        ("paragraph", "Etter listen kommer et vanlig avsnitt."),
    ]
    assert_offsets(doc)


# --- bad input ---------------------------------------------------------------------

def _fails(path, *needles):
    with pytest.raises(ExtractionError) as info:
        extract_file(path)
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message
    return message


def test_bad_inputs_give_one_line_reasons(tmp_path):
    good = make_pdf(tmp_path / "good.pdf", [[("para", sentences("God", 3))]])
    data = good.read_bytes()
    (tmp_path / "empty.pdf").write_bytes(b"")
    _fails(tmp_path / "empty.pdf", "empty file (0 bytes)")
    (tmp_path / "text.pdf").write_text("Dette er bare tekst.\n", encoding="utf-8")
    _fails(tmp_path / "text.pdf", "not a PDF: the file starts with text")
    (tmp_path / "truncated.pdf").write_bytes(data[: len(data) // 2])
    _fails(tmp_path / "truncated.pdf", "truncated PDF")
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n")
    _fails(tmp_path / "corrupt.pdf", "corrupt PDF")
    encrypted = make_pdf(tmp_path / "locked.pdf", [[("para", ["Hemmelig."])]], encrypt="hemmelig")
    _fails(encrypted, "encrypted PDF — remove the password and try again")
    with pytest.raises(ExtractionError, match="^no text layer — scanned\\? OCR is off \\(--ocr never\\)"):
        extract_file(make_scanned_pdf(tmp_path / "scan.pdf"), ocr="never")
    (tmp_path / "notes.xyz").write_text("tekst", encoding="utf-8")
    _fails(tmp_path / "notes.xyz", "unsupported file type '.xyz' (use PDF, DOCX, TXT or MD)")
    (tmp_path / "fake.docx").write_text("ikke word", encoding="utf-8")
    _fails(tmp_path / "fake.docx", "not a DOCX")
    _fails(tmp_path / "missing.pdf", "file not found")


def test_content_wins_over_extension(tmp_path):
    pdf = make_pdf(tmp_path / "plan.pdf", [[("para", ["Innholdet avgjør formatet."])]])
    renamed = tmp_path / "plan.txt"
    renamed.write_bytes(pdf.read_bytes())
    assert extract_file(renamed).engine == "pypdfium2"


# --- DOCX, Markdown, text ----------------------------------------------------------

def test_docx_headings_lists_tables_and_page_breaks(tmp_path):
    import docx
    from docx.enum.text import WD_BREAK

    d = docx.Document()
    d.add_heading("Plan for Testvik", 1)
    d.add_paragraph("Første avsnitt om forebygging.")
    d.add_paragraph("Helsestasjonen", style="List Bullet")
    d.add_paragraph("Skolen", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    for (r, c), value in {(0, 0): "Tiltak", (0, 1): "Ansvar", (1, 0): "Foreldreveiledning", (1, 1): "Helsestasjon"}.items():
        table.cell(r, c).text = value
    d.add_paragraph("Før sideskift.").add_run().add_break(WD_BREAK.PAGE)
    d.add_paragraph("Side to.")
    d.save(tmp_path / "plan.docx")
    doc = extract_file(tmp_path / "plan.docx")
    assert blocks(doc) == [
        ("heading", "Plan for Testvik"), ("paragraph", "Første avsnitt om forebygging."),
        ("list", "• Helsestasjonen\n• Skolen"), ("table", "Tiltak | Ansvar\nForeldreveiledning | Helsestasjon"),
        ("paragraph", "Før sideskift."), ("paragraph", "Side to."),
    ]
    assert [b.page_start for b in doc.blocks] == [1, 1, 1, 1, 1, 2]
    assert doc.page_count == 2
    assert_offsets(doc)


def test_markdown_and_text_input(tmp_path):
    md = tmp_path / "plan.md"
    md.write_text("# Plan for forebygging\n\n## Mål\n\nHovedmålet er at\nalle barn får hjelp.\n\n"
                  "- Helsestasjonen følger opp.\n- Skolen har ansvar\n  for mobbing.\n\n"
                  "| Tiltak | Ansvar |\n|---|---|\n| PMTO | Barnevernet |\n\f1. Ett\n2. To\n", encoding="utf-8")
    doc = extract_file(md)
    assert blocks(doc) == [
        ("heading", "Plan for forebygging"), ("heading", "Mål"), ("paragraph", "Hovedmålet er at\nalle barn får hjelp."),
        ("list", "• Helsestasjonen følger opp.\n• Skolen har ansvar for mobbing."),
        ("table", "Tiltak | Ansvar\nPMTO | Barnevernet"), ("list", "1. Ett\n2. To"),
    ]
    assert doc.blocks[-1].page_start == 2 and doc.page_count == 2
    txt = tmp_path / "plan.txt"
    txt.write_bytes("Plan for Prøvedal\r\n\r\nSamarbeidet er godt.\r\nVentetiden er lang.\r\n".encode("cp1252"))
    doc = extract_file(txt)
    assert blocks(doc) == [("heading", "Plan for Prøvedal"), ("paragraph", "Samarbeidet er godt.\nVentetiden er lang.")]
    assert_offsets(doc)
