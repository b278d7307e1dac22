#!/usr/bin/env python3
"""Analysis at the size of a yearly corpus: the Analyse page's work, `qualcode report` and `qualcode queue`.

Builds (once, cached) a synthetic store the size of a year of prevention plans - 360
documents and ~105,000 segments with ~215,000 rule codings - by copying the demo
corpus's documents, segments, codings, search terms and each document's word counts (as a
run writes them) through the store API (SQLAlchemy Core bulk inserts), renamed to many
municipalities, and has 2 % of the segments reviewed. Then times:

- `load()` of the analysis frames (confirmed codings, and with machine codings);
- every Analyse tab's tables and charts for "Bekreftede + maskinforslag", as the page
  computes them (one tab at a time, cached per store version, filters and source);
- `qualcode report` (HTML with charts) and `qualcode queue -n 20`, end to end as commands.

    .venv/bin/python bench/bench_analysis.py [--copies 40] [--repeat 5] [--db FILE]

Targets (issue 12): a tab or filter change < 2 s after the first load, the report < 5 s,
the queue < 2 s. The machine is shared: the load average is printed with the timings.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_store(db: str, copies: int, repeat: int, reviewed_share: float = 0.02) -> None:
    """Copy the demo corpus ``copies`` times (each segment ``repeat`` times) into a fresh store at ``db``."""
    from sqlalchemy import insert, select

    from qualcode.search.word_counts import document_counts, document_row
    from qualcode.store import schema, session_factory

    demo = Path(tempfile.mkdtemp()) / "demo.db"
    subprocess.run([str(Path(sys.executable).with_name("qualcode")), "demo", "--db", str(demo)], check=True,
                   capture_output=True)
    with session_factory(str(demo))() as s:
        docs = s.execute(select(schema.Document.__table__)).mappings().all()
        segs = s.execute(select(schema.Segment.__table__).order_by(schema.Segment.id)).mappings().all()
        cods = s.execute(select(schema.Coding.__table__)).mappings().all()
        books = s.execute(select(schema.CodebookVersion.__table__)).mappings().all()
        terms = {t["segment_id"]: t for t in s.execute(select(schema.SearchTerms.__table__)).mappings()}
        codes = s.execute(select(schema.Code.__table__)).mappings().all()
    by_doc: dict[int, list] = {}
    for seg in segs:
        by_doc.setdefault(seg["document_id"], []).append(seg)
    cods_by_seg: dict[int, list] = {}
    for c in cods:
        cods_by_seg.setdefault(c["segment_id"], []).append(c)
    factory = session_factory(db)
    rng = random.Random(0)
    T = schema
    with factory.begin() as s:
        s.execute(insert(T.CodebookVersion.__table__), [dict(b) for b in books])
        s.execute(insert(T.Code.__table__), [dict(c) for c in codes])
    next_doc, next_seg, next_cod, next_rev = 1, 1, 1, 1
    for copy in range(copies):
        doc_rows, seg_rows, cod_rows, rev_rows, term_rows, count_rows = [], [], [], [], [], []
        for doc in docs:
            indexed = len(term_rows)
            row = dict(doc, id=next_doc, content_hash=f"{doc['content_hash'][:40]}-{copy}",
                       municipality=f"Kommune {copy:03d}", file_name=f"k{copy:03d}-{doc['file_name']}", run_id=None,
                       year=2024 + copy % 2 if doc["doc_type"] == "plan" else doc["year"])
            doc_rows.append(row)
            seq = 0
            for _ in range(repeat):
                for seg in by_doc.get(doc["id"], []):
                    seg_rows.append(dict(seg, id=next_seg, document_id=next_doc, seq=seq, context_segment_id=None))
                    if seg["id"] in terms:  # the search index, as a run writes it
                        term_rows.append(dict(terms[seg["id"]], segment_id=next_seg))
                    for c in cods_by_seg.get(seg["id"], []):
                        cod_rows.append(dict(c, id=next_cod, segment_id=next_seg))
                        next_cod += 1
                    if seg["codable"] and rng.random() < reviewed_share:
                        rev_rows.append({"id": next_rev, "segment_id": next_seg, "reviewer": "Bench",
                                         "created_at": seg_rows[-1].get("created_at") or doc["ingested_at"],
                                         "active": True})
                        for c in cods_by_seg.get(seg["id"], []):
                            if c["applied"]:
                                cod_rows.append(dict(c, id=next_cod, segment_id=next_seg, source="reviewer",
                                                     created_by="Bench"))
                                next_cod += 1
                        next_rev += 1
                    next_seg += 1
                    seq += 1
            mine = term_rows[indexed:]  # the document's word counts, as a run writes them
            count_rows.append(document_row(next_doc, [t["segment_id"] for t in mine],
                                           document_counts([t["lemmas"] for t in mine])))
            next_doc += 1
        with factory.begin() as s:
            s.execute(insert(T.Document.__table__), doc_rows)
            s.execute(insert(T.Segment.__table__), seg_rows)
            s.execute(insert(T.Coding.__table__), cod_rows)
            if rev_rows:
                s.execute(insert(T.SegmentReview.__table__), rev_rows)
            if term_rows:
                s.execute(insert(T.SearchTerms.__table__), term_rows)
            s.execute(insert(T.DocumentWordCounts.__table__), count_rows)
    factory.kw["bind"].dispose()


def timed(label: str, fn, results: dict):
    started, cpu = time.perf_counter(), time.process_time()
    value = fn()
    results[label] = (time.perf_counter() - started, time.process_time() - cpu)
    print(f"{label:<58} {results[label][0]:6.2f} s wall  {results[label][1]:6.2f} s CPU", flush=True)
    return value


def page_timings(db: str) -> None:
    """The Analyse page in the app (Streamlit's AppTest, no browser): first load, then each view and a filter change."""
    from streamlit.testing.v1 import AppTest

    os.environ["QUALCODE_DB"] = db
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.session_state["reviewer"] = "Bench"

    def step(label: str, action) -> None:
        started = time.perf_counter()
        action()
        assert not at.exception, at.exception
        print(f"{'page: ' + label:<58} {time.perf_counter() - started:6.2f} s wall", flush=True)

    step("first load (confirmed codings)", lambda: at.switch_page("qualcode/app/pages/analyse.py").run())
    step("source → confirmed + machine (load once)", lambda: at.selectbox(key="an_source")
         .set_value("Bekreftede + maskinforslag").run())
    from qualcode.analysis.tabs import TABS

    for label in list(TABS.values())[1:] + [TABS["themes"]]:
        step(f"view «{label}»", lambda lab=label: at.get("button_group")[0].set_value(lab).run())
    step("filter: one municipality", lambda: at.multiselect(key="an_place").set_value(["Kommune 001"]).run())
    step("filter back to all (cached)", lambda: at.multiselect(key="an_place").set_value([]).run())


def forget_saved_counts(db: str) -> None:
    """Drop the word counts a reader saved (a run changes the index, so its first report counts again)."""
    from sqlalchemy import delete

    from qualcode.store import schema, session_factory

    with session_factory(db).begin() as s:
        s.execute(delete(schema.SearchCounts))


def run_command(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("qualcode")), *args], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=40, help="copies of the 9 demo documents (default 40)")
    parser.add_argument("--repeat", type=int, default=5, help="each document's segments repeated (default 5)")
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "qualcode-bench-analysis.db"),
                        help="the synthetic store (built when missing, reused otherwise)")
    args = parser.parse_args()
    if not Path(args.db).exists():
        started = time.perf_counter()
        build_store(args.db, args.copies, args.repeat)
        print(f"built {args.db} in {time.perf_counter() - started:.1f} s")
    from sqlalchemy import func, select

    from qualcode.store import schema, session_factory

    with session_factory(args.db)() as s:
        n_docs = s.scalar(select(func.count()).select_from(schema.Document))
        n_segs = s.scalar(select(func.count()).select_from(schema.Segment))
        n_cods = s.scalar(select(func.count()).select_from(schema.Coding))
    print(f"store: {n_docs} documents, {n_segs} segments, {n_cods} codings; load average {os.getloadavg()[0]:.1f} "
          "(the machine is shared: timings vary with what else runs)")
    from qualcode.analysis import tabs
    from qualcode.analysis.frame import load

    results: dict[str, tuple[float, float]] = {}
    timed("load(): confirmed codings", lambda: load(args.db), results)
    data = timed("load(): confirmed + machine codings", lambda: load(args.db, include_machine=True), results)
    for tab in tabs.TABS:
        timed(f"tab «{tabs.TABS[tab]}» (confirmed + machine)", lambda t=tab: tabs.compute(data, t), results)
    page_timings(args.db)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "rapport.html"
        forget_saved_counts(args.db)  # as a run leaves the store: the first report counts the words and saves them
        first = run_command(["report", "--db", args.db, "-o", str(report)])
        print(f"{'qualcode report (HTML, charts), first after a run':<58} {first:6.2f} s")
        results["qualcode report (HTML, charts)"] = (run_command(["report", "--db", args.db, "-o", str(report)]), 0)
        print(f"{'qualcode report (HTML, charts), again':<58} {results['qualcode report (HTML, charts)'][0]:6.2f} s")
        machine = run_command(["report", "--include-machine", "--db", args.db, "-o", str(report)])
        print(f"{'qualcode report --include-machine (HTML, charts)':<58} {machine:6.2f} s")
    queue = run_command(["queue", "-n", "20", "--db", args.db])
    print(f"{'qualcode queue -n 20':<58} {queue:6.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
