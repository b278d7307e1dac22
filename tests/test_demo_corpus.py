"""The bundled demo corpus: reproducible from its sources, and `qualcode demo` covers every theme."""
import subprocess
import sys

from sqlalchemy import select
from typer.testing import CliRunner

from qualcode.cli import app
from qualcode.paths import DEMO_CORPUS, PROJECT_ROOT
from qualcode.store import session_factory
from qualcode.store.schema import Coding, Document


def test_committed_demo_files_are_what_the_sources_render(tmp_path):
    subprocess.run([sys.executable, str(PROJECT_ROOT / "corpus" / "render_demo.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    committed = sorted(p.name for p in DEMO_CORPUS.iterdir() if p.is_file())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    stale = [name for name in committed if (DEMO_CORPUS / name).read_bytes() != (tmp_path / name).read_bytes()]
    assert not stale, f"re-render corpus/demo with corpus/render_demo.py: {stale}"


def test_demo_ingests_everything_and_touches_every_theme(db):
    result = CliRunner().invoke(app, ["demo", "--db", db])
    assert result.exit_code == 0, result.output
    assert "failed" not in result.output.split("→")[0].replace("0 failed", "")
    with session_factory(db)() as s:
        docs = s.scalars(select(Document)).all()
        themes = {c.split(".")[0] for c in s.scalars(select(Coding.code).where(Coding.applied))}
    assert len(docs) == 9 and {d.doc_type for d in docs} == {"plan", "intervju"}
    assert all(d.municipality and d.year for d in docs)
    assert themes == {"niva", "mandat", "barriere", "suksess", "plan", "perspektiv", "begrep"}
