"""Run QualCoder's own REFI-QDA importer on a qualcode export and check what arrives.

QualCoder is not a dependency and none of its code is copied here: point the script at a
QualCoder checkout (https://github.com/ccbogel/QualCoder) and it loads ``src/qualcoder/refi.py``
from there, with its Qt dialogs stubbed out, into a QualCoder project database whose tables
are read from that checkout's ``__main__.py``.

    python bench/check_qualcoder_import.py --qualcoder ~/src/QualCoder            # demo store, exported
    python bench/check_qualcoder_import.py --qualcoder ~/src/QualCoder --qdpx p.qdpx

Prints what QualCoder loaded (sources, codes, categories, codings, annotations, journals) and
checks each coding against the export: same source, same code, the exact characters at
[startPosition, endPosition). Exit status 1 if anything differs.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import importlib.util
import io
import sqlite3
import subprocess
import sys
import tempfile
import types
import zipfile
from pathlib import Path

from lxml import etree

P = "{urn:QDA-XML:project:1.0}"


def qualcoder_tables(main_py: Path) -> list[str]:
    """The CREATE TABLE statements QualCoder runs for a new project (string constants in its __main__.py)."""
    tree = ast.parse(main_py.read_text(encoding="utf-8"))
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            found = [node.value for node in ast.walk(fn) if isinstance(node, ast.Constant)
                     and isinstance(node.value, str) and node.value.startswith("CREATE TABLE ")]
            if any(s.startswith("CREATE TABLE source ") for s in found):
                return found
    raise SystemExit(f"no CREATE TABLE statements for a new project in {main_py}")


def stub_qt_and_helpers(src: Path) -> types.ModuleType:
    """Load qualcoder.refi from the checkout with the GUI parts it imports replaced by stand-ins."""
    builtins._ = lambda text: text  # gettext

    class Anything:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return Anything()

        def __call__(self, *args, **kwargs):
            return Anything()

    qt = types.ModuleType("PyQt6")
    widgets = types.ModuleType("PyQt6.QtWidgets")
    core = types.ModuleType("PyQt6.QtCore")
    widgets.QDialog = Anything
    widgets.QProgressDialog = Anything
    widgets.QFileDialog = Anything
    core.Qt = Anything()
    qt.QtWidgets, qt.QtCore = widgets, core
    package = types.ModuleType("qualcoder")
    package.__path__ = [str(src)]
    colors = types.ModuleType("qualcoder.color_selector")
    colors.colors = ["#FFFFFF"] * 200
    colors.color_matcher = lambda color: color
    gui = types.ModuleType("qualcoder.GUI")
    gui.__path__ = []
    endings = types.ModuleType("qualcoder.GUI.ui_dialog_refi_export_endings")
    endings.Ui_Dialog_refi_export_line_endings = Anything
    helpers = types.ModuleType("qualcoder.helpers")
    helpers.Message = Anything
    sys.modules.update({"PyQt6": qt, "PyQt6.QtWidgets": widgets, "PyQt6.QtCore": core, "qualcoder": package,
                        "qualcoder.color_selector": colors, "qualcoder.GUI": gui,
                        "qualcoder.GUI.ui_dialog_refi_export_endings": endings, "qualcoder.helpers": helpers})
    spec = importlib.util.spec_from_file_location("qualcoder.refi", src / "refi.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["qualcoder.refi"] = module
    spec.loader.exec_module(module)
    return module


def qualcoder_import(checkout: Path, qdpx: Path, work: Path) -> sqlite3.Connection:
    src = checkout / "src" / "qualcoder"
    refi = stub_qt_and_helpers(src)
    project = work / "project.qda"
    (project / "documents").mkdir(parents=True)
    conn = sqlite3.connect(project / "data.qda")
    for statement in qualcoder_tables(src / "__main__.py"):
        conn.execute(statement)
    conn.execute("INSERT INTO project (databaseversion, date, memo) VALUES ('v17', '', '')")
    conn.commit()
    app = types.SimpleNamespace(conn=conn, project_path=str(project), ai_models=None,
                                settings={"codername": "qualcoder", "directory": str(work), "ai_enable": "False"},
                                write_config_ini=lambda *args: None)
    log = types.SimpleNamespace(lines=[], append=lambda text: log.lines.append(str(text)))
    importer = refi.RefiImport.__new__(refi.RefiImport)  # __init__ opens a file dialog
    importer.__dict__.update(app=app, parent_textedit=log, import_type="qdpx", file_path=str(qdpx), folder_name="",
                             sources_name="/Sources", file_vars=[], annotations=[], links=[], tree=None, codes=[],
                             users=[], cases=[], sources=[], source_name_prefix=0, variables=[], xml=None,
                             base_path="", software_name="", xmlns_version="1.0", pd=None, pd_value=0)
    importer.import_project()
    return conn


def expected(qdpx: Path) -> tuple[set, dict, list, int]:
    """From the export: codings (source, start, end, code name, text), texts, memos, code count."""
    with zipfile.ZipFile(qdpx) as archive:
        root = etree.fromstring(archive.read("project.qde"))
        texts = {}
        for src in root.iter(f"{P}TextSource"):
            member = "sources/" + src.get("plainTextPath").removeprefix("internal://")
            texts[src.get("name")] = archive.read(member).decode("utf-8")
    names = {c.get("guid"): c.get("name") for c in root.iter(f"{P}Code")}
    codings = set()
    for src in root.iter(f"{P}TextSource"):
        for sel in src.findall(f"{P}PlainTextSelection"):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            for coding in sel.findall(f"{P}Coding"):
                codings.add((src.get("name"), start, end, names[coding.find(f"{P}CodeRef").get("targetGUID")],
                             texts[src.get("name")][start:end]))
    memos = sorted(n.findtext(f"{P}PlainTextContent") for n in root.iter(f"{P}Note")
                   if n.find(f"{P}PlainTextSelection") is not None)
    codable = sum(1 for c in root.iter(f"{P}Code") if c.get("isCodable") == "true")
    return codings, texts, memos, codable


def demo_export(work: Path) -> Path:
    """A demo store with a few reviews and a memo, exported with machine suggestions."""
    db, out = work / "demo.db", work / "demo.qdpx"
    run = [sys.executable, "-c", "from qualcode.cli import main; main()"]
    subprocess.run([*run, "demo", "--db", str(db)], check=True, capture_output=True)
    from sqlalchemy import select

    from qualcode.review import actions
    from qualcode.store import schema, session_factory

    factory = session_factory(str(db))
    with factory() as s:
        segments = s.scalars(select(schema.Segment).where(schema.Segment.codable).order_by(schema.Segment.id)
                             .limit(12)).all()
    for i, seg in enumerate(segments):
        version = actions.add(factory, seg.id, "plan.samarbeid" if i % 2 else "niva.universell", "Kari",
                              seg.review_version)
        version = actions.mark_done(factory, seg.id, "Kari", version)
        if i == 0:
            actions.memo(factory, seg.id, "Kari", "Et notat om dette segmentet.", version)
    subprocess.run([*run, "export", "--include-machine", "-o", str(out), "--db", str(db)], check=True,
                   capture_output=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--qualcoder", type=Path, required=True, help="a QualCoder checkout (with src/qualcoder/)")
    parser.add_argument("--qdpx", type=Path, help="a qualcode export (default: export the demo store)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        qdpx = args.qdpx or demo_export(work)
        conn = qualcoder_import(args.qualcoder, qdpx, work)
        want, texts, memos, codable = expected(qdpx)
        sources = dict(conn.execute("SELECT id, name FROM source"))
        fulltext = dict(conn.execute("SELECT name, fulltext FROM source"))
        code_names = dict(conn.execute("SELECT cid, name FROM code_name"))
        got = {(sources[fid], pos0, pos1, code_names.get(cid), seltext)
               for cid, fid, seltext, pos0, pos1 in conn.execute("SELECT cid, fid, seltext, pos0, pos1 FROM code_text")}
        exact = sum(1 for s, a, b, _c, t in got if fulltext[s][a:b] == t)
        annotations = sorted(m for (m,) in conn.execute("SELECT memo FROM annotation"))
        empty = conn.execute("SELECT count(*) FROM annotation WHERE memo IS NULL OR memo = ''").fetchone()[0]
        journals = [n for (n,) in conn.execute("SELECT name FROM journal")]
        categories = conn.execute("SELECT count(*) FROM code_cat").fetchone()[0]
        pdf_named = [n for n in sources.values() if n.lower().endswith(".pdf")]
        print(f"export: {qdpx.name}: {len(texts)} sources, {codable} codes, {len(want)} codings, {len(memos)} memos")
        print(f"QualCoder: {len(sources)} sources ({len(pdf_named)} named .pdf), {len(code_names)} codes in "
              f"{categories} categories, {len(got)} codings ({exact} with exact text), {len(annotations)} "
              f"annotations ({empty} empty), journals: {journals}")
        problems = []
        if set(texts) != set(fulltext) or any(fulltext[n] != t for n, t in texts.items()):
            problems.append("source texts differ")
        if got != want:
            problems.append(f"codings differ: {len(want - got)} missing, {len(got - want)} unexpected")
        if annotations != memos or empty:
            problems.append(f"annotations {annotations} != memos {memos}")
        if pdf_named:
            problems.append(f"sources named like PDFs: {pdf_named}")
        for problem in problems:
            print("PROBLEM:", problem)
        print("OK: QualCoder imported everything exactly" if not problems else "")
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
