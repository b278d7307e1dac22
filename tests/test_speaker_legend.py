"""A transcript that says who is who: names as speaker labels keep their roles through pseudonymisation."""
import pytest
from docx import Document as Docx
from sqlalchemy import select
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.prepare import prepare
from qualcode.store import session_factory
from qualcode.store.schema import Segment

QUESTIONS = ["Kan du fortelle om det forebyggende arbeidet i kommunen?", "Hvem samarbeider dere mest med?",
             "Hva er de største utfordringene?", "Hva fungerer godt?"]
ANSWERS = ["Ja, vi har en plan fra 2023. Den handler om tidlig innsats og samarbeid mellom tjenestene.",
           "Helsestasjonen og skolen, først og fremst. Vi møtes hver måned i et tverrfaglig team.",
           "Vi har for få ansatte, og ventetiden er lang. Det er krevende for familiene.",
           "Samarbeidet med helsestasjonen fungerer godt, og vi har korte møter hver uke."]
LEGENDS = {
    "equals": "Per Olav = intervjuer, Kari Nilsen = barnevernleder.",
    "parentheses": "Deltakere: Per Olav (intervjuer), Kari Nilsen (barnevernleder)",
    "header-lines": "Intervjuer: Per Olav\nInformant: Kari Nilsen",
}
ROLES = ["interviewer", "informant"] * len(QUESTIONS)


def _txt(path, legend):
    turns = "\n\n".join(f"Per Olav: {q}\n\nKari Nilsen: {a}" for q, a in zip(QUESTIONS, ANSWERS))
    path.write_text(f"Intervju med barnevernleder i Testvik kommune\n\n{legend}\n\n{turns}\n", encoding="utf-8")
    return path


def _docx(path, legend):
    doc = Docx()
    doc.add_paragraph("Intervju med barnevernleder i Testvik kommune")
    doc.add_paragraph(legend)  # a line break inside one Word paragraph
    for q, a in zip(QUESTIONS, ANSWERS):
        for label, text in (("Per Olav", q), ("Kari Nilsen", a)):
            par = doc.add_paragraph()
            par.add_run(f"{label}:").bold = True
            par.add_run(f" {text}")
    doc.save(path)
    return path


@pytest.mark.parametrize("legend", LEGENDS)
@pytest.mark.parametrize("write", [_txt, _docx], ids=["txt", "docx"])
@pytest.mark.parametrize("pseudonymise", [True, False], ids=["pseudonymised", "as-is"])
def test_a_legend_gives_name_labels_their_roles(tmp_path, legend, write, pseudonymise):
    path = write(tmp_path / f"intervju.{'txt' if write is _txt else 'docx'}", LEGENDS[legend])
    prepared = prepare(path, "intervju", pseudonymise)
    turns = [s for s in prepared.segments if s.kind == "turn"]
    assert [s.role for s in turns] == ROLES
    assert [s.text for s in turns if s.role == "interviewer"] == QUESTIONS
    speakers = {s.role: s.speaker for s in turns}
    if pseudonymise:
        assert "Per Olav" not in prepared.document.text and "Kari" not in prepared.document.text
        assert speakers["interviewer"].startswith("[PERSON") and speakers["informant"].startswith("[PERSON")
        assert speakers["interviewer"] != speakers["informant"]
    else:
        assert speakers == {"interviewer": "Per Olav", "informant": "Kari Nilsen"}


def test_interviewer_turns_named_in_a_legend_are_never_coded(tmp_path, db):
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    _txt(folder / "intervju.txt", LEGENDS["header-lines"])
    result = CliRunner().invoke(app, ["run", str(folder), "--db", db, "--no-code"])
    assert result.exit_code == 0, result.output
    with session_factory(db)() as s:
        rows = s.execute(select(Segment.role, Segment.codable, Segment.text).where(Segment.kind == "turn")
                         .order_by(Segment.seq)).all()
    assert [r.role for r in rows] == ROLES
    assert [r.text for r in rows if r.codable] == ANSWERS
