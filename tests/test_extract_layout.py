"""Reading order on mixed two-column pages: tables, lists and text beside each other.

Each PDF is generated here with reportlab in the layouts that broke extraction on report
PDFs: a ruled table set in one column that reaches a few points into the other, a table
split over both columns of a page, a list beside text, a word hyphenated at the foot of a
column, an unbreakable URL running across the gutter, and words drawn glyph by glyph
with letter spacing.  Every test states the exact text the layout must give.
"""
from __future__ import annotations

from fixtures.pdfs import COLUMN, make_pdf, sentences, wrap

from qualcode.extract import extract_file
from qualcode.segment import segment_document

MEASURES = [["Tiltak", "Målgruppe", "Ansvar"],
            ["Foreldreveiledning", "Alle foreldre", "Helsestasjon"],
            ["PMTO", "Familier med barn 3-12", "Barnevernet"],
            ["Mentorordning", "Ungdom 13-18", "Skolen"],
            ["Åpen barnehage", "Småbarnsforeldre", "Kommunen"]]


def texts(doc, kind=None):
    return [doc.text[b.start:b.end] for b in doc.blocks if kind is None or b.kind == kind]


def column_text(prefix: str, n: int) -> list[str]:
    """A justified-width paragraph of n sentences, wrapped to the column."""
    return wrap(" ".join(sentences(prefix, n)))


def two_column_page(left_prefix: str, right_prefix: str) -> dict:
    return {"left": [("para", column_text(left_prefix, 6), {"justify": True}),
                     ("para", column_text(left_prefix + "s andre", 5), {"justify": True})],
            "right": [("para", column_text(right_prefix, 6), {"justify": True}),
                      ("para", column_text(right_prefix + "s andre", 5), {"justify": True})]}


def test_table_in_right_column_touching_left_text_does_not_bleed(tmp_path):
    left = column_text("Venstre", 14)
    doc = extract_file(make_pdf(tmp_path / "beside.pdf", [{
        "left": [("para", left, {"justify": True})],
        # the table starts 4 pt inside the left column's text: its cell text touches the line ends
        "right": [("table", MEASURES, {"shift": -28, "width": 250})],
    }]))
    assert texts(doc) == [" ".join(left), "\n".join(" | ".join(row) for row in MEASURES)]
    table = next(b for b in doc.blocks if b.kind == "table")
    assert [list(r) for r in table.rows] == MEASURES
    assert table.header_rows == 1


def test_table_split_over_both_columns_is_one_table_after_the_text(tmp_path):
    head, body = MEASURES[0], MEASURES[1:]
    left = column_text("Teksten", 12)
    pages = [two_column_page("Første", "Andre"), two_column_page("Tredje", "Fjerde"), {
        # the left half of the table sits below the text and reaches past the gutter;
        # the right column holds only the rest of the table, its header repeated
        "left": [("para", left, {"justify": True}), ("table", [head] + body[:2], {"shift": -40, "width": 300})],
        "right": [("table", [head] + body[2:], {"shift": -28, "width": 250})],
    }]
    doc = extract_file(make_pdf(tmp_path / "split.pdf", pages))
    last_page = [b for b in doc.blocks if b.page_start == 3]
    assert [b.kind for b in last_page] == ["paragraph", "table"]
    assert doc.text[last_page[0].start:last_page[0].end] == " ".join(left)
    assert [list(r) for r in last_page[1].rows] == MEASURES


def test_list_beside_text_keeps_items_and_paragraph_apart(tmp_path):
    # (texts differ in words, not only in digits: lines repeated at the top of pages are running headers)
    items = {page: [wrap(s, COLUMN - 18) for s in sentences(f"Punkt {word}", 4)] for page, word in ((2, "to"), (3, "tre"))}
    text = {page: column_text(f"Ved siden av {word}", 8) for page, word in ((2, "to"), (3, "tre"))}
    pages = [two_column_page("Første", "Andre"), {
        "left": [("para", ["Kommunen har disse tiltakene:"]), ("bullets", items[2])],
        "right": [("para", text[2], {"justify": True})],
    }, {
        "left": [("para", text[3], {"justify": True})],
        "right": [("bullets", items[3])],
    }]
    doc = extract_file(make_pdf(tmp_path / "list.pdf", pages))
    for page in (2, 3):
        on_page = [(b.kind, doc.text[b.start:b.end]) for b in doc.blocks if b.page_start == page]
        assert ("list", "\n".join("• " + " ".join(item) for item in items[page])) in on_page
        assert ("paragraph", " ".join(text[page])) in on_page


def test_hyphen_at_column_foot_joins_the_next_column_past_an_overflowing_url(tmp_path):
    url = "https://www.eksempel.no/globalassets/rapporter/forebygging/tjenestekatalog_for_familier_og_barn.pdf"
    first = column_text("Kilden", 3) + ["Hentet fra:"]
    tail = wrap(" ".join(sentences("Figuren", 9)) + " Antall oppholds-")  # the word breaks at the column foot
    right = ["dager i sentre for foreldre og barn, fordelt"] + column_text("Høyre", 9)
    doc = extract_file(make_pdf(tmp_path / "foot.pdf", [two_column_page("Første", "Andre"), {
        # the URL cannot break: its line runs on across the gutter, between right-column lines
        "left": [("para", first), ("para", [url]), ("para", tail, {"justify": True})],
        "right": [("para", right, {"justify": True})],
    }]))
    on_page = [doc.text[b.start:b.end] for b in doc.blocks if b.page_start == 2]
    assert on_page == [" ".join(first), url, " ".join(tail)[:-1] + " ".join(right)]
    assert "Antall oppholdsdager i sentre" in on_page[-1]


def test_url_broken_inside_a_paragraph_is_rejoined(tmp_path):
    doc = extract_file(make_pdf(tmp_path / "url.pdf", [[
        ("para", ["Mer om modellen finnes hos stiftelsen: https:", "//www.eksempel.org/ressurs/the-heck",
                  "man-curve/ og i rapporten om voldelig ekstremisme (https://www.eksempel.no/plan-mot-ekstremis",
                  "me) fra kommunen."]),
    ]]))
    assert texts(doc) == ["Mer om modellen finnes hos stiftelsen: https://www.eksempel.org/ressurs/the-heckman-curve/ "
                          "og i rapporten om voldelig ekstremisme (https://www.eksempel.no/plan-mot-ekstremisme) "
                          "fra kommunen."]


def test_letter_spaced_words_drawn_glyph_by_glyph_stay_whole(tmp_path):
    lines = ["Heckman-kurven viser at tidlig innsats gir gevinst,", "og forebygging lønner seg for kommunen."]
    for extra in (0.6, 1.5, 2.5):
        doc = extract_file(make_pdf(tmp_path / f"spaced{extra}.pdf", [[
            ("letters", lines, {"extra": extra}), ("para", sentences("Vanlig", 2)),
        ]]))
        assert texts(doc)[0] == " ".join(lines), extra


def test_table_rows_are_segments_with_their_column_headers(tmp_path):
    doc = extract_file(make_pdf(tmp_path / "rows.pdf", [[
        ("para", ["Tiltakene i planen:"]), ("table", MEASURES), ("para", ["Teksten fortsetter."]),
    ]]))
    segments = segment_document(doc)
    rows = [s for s in segments if s.kind == "table_row"]
    header = [s for s in segments if s.kind == "table_header"]
    assert [s.text for s in header] == ["Tiltak | Målgruppe | Ansvar"]
    assert not header[0].codable and all(s.codable for s in rows)
    assert [s.text for s in rows] == [" | ".join(r) for r in MEASURES[1:]]
    assert rows[0].context == "Tiltak: Foreldreveiledning | Målgruppe: Alle foreldre | Ansvar: Helsestasjon"
    for s in segments:
        assert doc.text[s.start:s.end] == s.text


def _plumber_tables(horizontal, vertical):
    from pdfplumber import table as plumber

    edges = [{"x0": x0, "x1": x1, "top": t, "bottom": b, "width": x1 - x0, "height": 0, "doctop": t,
              "orientation": "h"} for x0, t, x1, b in horizontal]
    edges += [{"x0": x0, "x1": x1, "top": t, "bottom": b, "width": 0, "height": b - t, "doctop": t,
               "orientation": "v"} for x0, t, x1, b in vertical]
    edges = plumber.merge_edges(edges, 3, 3, 3, 3)
    cells = plumber.intersections_to_cells(plumber.edges_to_intersections(edges, 3, 3))
    return [sorted(t) for t in plumber.cells_to_tables(cells)]


def test_table_grid_gives_pdfplumbers_cells():
    """qualcode.extract.grid restates pdfplumber's table geometry; both must find the same cells."""
    import random

    from qualcode.extract import grid

    rng = random.Random(7)
    for _ in range(60):
        xs = sorted(rng.sample(range(20, 560, 7), rng.randint(2, 6)))
        ys = sorted(rng.sample(range(20, 800, 9), rng.randint(2, 7)))
        jitter = lambda: rng.choice([0.0, 0.0, 0.4, -1.2, 2.5, 4.0])  # noqa: E731  nearly aligned, some not
        horizontal = [(xs[0] + jitter(), y + jitter(), xs[-1] + jitter(), 0.0) for y in ys]
        horizontal = [(x0, y, x1, y) for x0, y, x1, _ in horizontal]
        vertical = [(x + jitter(), ys[0] + jitter(), 0.0, ys[-1] + jitter()) for x in xs]
        vertical = [(x, t, x, b) for x, t, _, b in vertical]
        if rng.random() < 0.3:  # broken rules and stray pieces
            horizontal.append((xs[0], ys[0] + 3.3, (xs[0] + xs[-1]) / 2, ys[0] + 3.3))
            vertical = vertical[:-1] + [(xs[-1], ys[0], xs[-1], (ys[0] + ys[-1]) / 2)]
        h, v = grid.merge_edges(horizontal, vertical)
        ours = [sorted(t) for t in grid.tables(grid.cells(grid.intersections(h, v)))]
        assert ours == _plumber_tables(horizontal, vertical)


def test_tables_whose_frames_differ_by_a_few_points_each_keep_all_columns(tmp_path):
    """Left rules 3 pt apart chain into one snap cluster page-wide (pdfplumber's behaviour),
    which moved one table's rules off its cross rules and lost its first column."""
    tables = [[[f"Kolonne {k}{t}" for k in "ABC"], [f"rad {t}{k}" for k in range(3)], [f"ny {t}{k}" for k in range(3)]]
              for t in range(4)]
    page = []
    for t, rows in enumerate(tables):
        page += [("table", rows, {"shift": -3.0 * t, "width": 300}), ("para", [f"Tekst etter tabell {t + 1}."])]
    doc = extract_file(make_pdf(tmp_path / "frames.pdf", [page]))
    assert [[list(r) for r in b.rows] for b in doc.blocks if b.kind == "table"] == tables


def test_docx_and_markdown_tables_give_row_segments_with_headers(tmp_path):
    import docx

    d = docx.Document()
    table = d.add_table(rows=3, cols=3)  # Word's "header row" option is on for a new table
    for r, row in enumerate(MEASURES[:3]):
        for k, value in enumerate(row):
            table.cell(r, k).text = value
    d.save(tmp_path / "plan.docx")
    (tmp_path / "plan.md").write_text("| " + " | ".join(MEASURES[0]) + " |\n|---|---|---|\n"
                                      + "".join("| " + " | ".join(r) + " |\n" for r in MEASURES[1:3]), encoding="utf-8")
    for name in ("plan.docx", "plan.md"):
        segments = segment_document(extract_file(tmp_path / name))
        assert [(s.kind, s.codable) for s in segments] == [("table_header", False), ("table_row", True),
                                                           ("table_row", True)], name
        assert segments[2].context == "Tiltak: PMTO | Målgruppe: Familier med barn 3-12 | Ansvar: Barnevernet"


def test_contents_page_in_a_two_column_report_is_read_row_by_row(tmp_path):
    """The document's column grid must not split a page of titles and page numbers."""
    contents = [[f"{n} {title}", str(3 + 4 * n)] for n, title in
                enumerate(["Innledning og bakgrunn for evalueringen", "Metode, datagrunnlag og gjennomføring",
                           "Forebygging og tidlig innsats i kommunene", "Samarbeid mellom tjenestene i praksis",
                           "Anbefalinger for det videre arbeidet"], start=1)]  # titles as wide as a column
    pages = [[("heading", "Innhold"), ("grid", contents, {"step": 440})],
             two_column_page("Første", "Andre"), two_column_page("Tredje", "Fjerde")]
    doc = extract_file(make_pdf(tmp_path / "toc.pdf", pages))
    first = [b for b in doc.blocks if b.page_start == 1]
    assert [b.kind for b in first] == ["heading", "table"]
    assert [list(r) for r in first[1].rows] == contents


def test_a_new_table_at_the_top_of_a_page_is_not_glued_to_the_last_one(tmp_path):
    first = [["Kommune", "Meldinger"], ["Testvik", "107"], ["Nordby", "119"]]
    second = [["Tiltak", "Ansvar"], ["PMTO", "Barnevernet"], ["ICDP", "Helsestasjon"]]  # its own (bold) header
    doc = extract_file(make_pdf(tmp_path / "two.pdf", [[("para", sentences("Før", 3)), ("table", first)],
                                                       [("table", second), ("para", sentences("Etter", 2))]]))
    assert [[list(r) for r in b.rows] for b in doc.blocks if b.kind == "table"] == [first, second]
