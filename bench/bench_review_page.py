"""The review page answers in < 1 s with 50,000 segments in the store.

Builds a synthetic store (bulk inserts with SQLAlchemy core: plans and
interviews, rule codings with evidence, some finished reviews), then times the
review page's data functions and Streamlit AppTest runs of the Gjennomgang page
(first view in a session, and the reruns after "Hopp over", "Godta" and
"Ferdig – neste"). Prints the timings; exits 1 if any exceeds the target.

    .venv/bin/python bench/bench_review_page.py [--segments 50000] [--db PATH]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.0
PER_DOC = 200

SUBJECTS = ["Kommunen", "Barneverntjenesten", "Helsestasjonen", "Skolen", "Barnehagen", "Oppvekstsektoren",
            "Det tverrfaglige teamet", "Familieteamet", "PPT", "Kommunalsjefen"]
VERBS = ["skal styrke", "har ansvar for", "samarbeider om", "prioriterer", "mangler ressurser til",
         "følger opp", "evaluerer", "organiserer", "utvikler", "har for liten kapasitet til"]
OBJECTS = ["tidlig innsats", "forebyggende arbeid", "foreldreveiledning", "hjelpetiltak i hjemmet",
           "oppfølging av utsatte familier", "universelle tiltak for alle barn", "samarbeidet med skolen",
           "kompetanse om vold og overgrep", "ventetiden på tiltak", "planen for barn og unge"]
TAILS = ["i hele kommunen", "hver måned", "innen 2026", "sammen med NAV", "etter barnevernsreformen",
         "for barn og unge", "i samarbeid med frivillige", "når midlene tillater det"]
# words that the rule coder would pick up, with a code for each
EVIDENCE = {"tidlig innsats": "begrep.tidlig_innsats", "forebyggende": "mandat.forebyggende_barnevern",
            "alle barn": "niva.universell", "utsatte familier": "niva.selektiv", "hjelpetiltak": "niva.indikert",
            "ansvar": "plan.ansvar", "samarbeid": "plan.samarbeid", "kapasitet": "barriere.kapasitet",
            "ressurser": "barriere.okonomi", "kompetanse": "suksess.kompetanse"}


def sentence(rng: random.Random) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."


def build(db: str, n_segments: int, seed: int = 11) -> None:
    from sqlalchemy import insert

    from qualcode.coding.apply import sync_codebook
    from qualcode.coding.codebook import load_codebook
    from qualcode.store import get_engine, schema, session_factory
    from qualcode.store.schema import utcnow

    rng = random.Random(seed)
    engine = get_engine(db)
    book = load_codebook()
    with session_factory(db).begin() as s:
        sync_codebook(s, book)
    n_docs = max(1, n_segments // PER_DOC)
    now = utcnow()
    docs, segments, codings, reviews = [], [], [], []
    seg_id = 0
    for d in range(1, n_docs + 1):
        interview = d % 10 == 0
        texts = []
        for seq in range(PER_DOC):
            role = ("interviewer" if seq % 2 == 0 else "informant") if interview else None
            text = (f"Hvordan jobber dere med {rng.choice(OBJECTS)}?" if role == "interviewer"
                    else " ".join(sentence(rng) for _ in range(rng.randint(1, 4))))
            texts.append((role, text))
        pos = 0
        for seq, (role, text) in enumerate(texts):
            seg_id += 1
            segments.append({
                "id": seg_id, "document_id": d, "seq": seq, "kind": "turn" if interview else "paragraph",
                "start": pos, "end": pos + len(text), "page_start": 1 + seq // 12, "page_end": 1 + seq // 12,
                "text": text, "role": role, "codable": role != "interviewer", "review_version": 0,
                "context_segment_id": seg_id - 1 if role == "informant" else None,
            })
            pos += len(text) + 2
            if role == "interviewer":
                continue
            lower = text.lower()
            for phrase, code in EVIDENCE.items():
                at = lower.find(phrase)
                if at < 0:
                    continue
                score = round(rng.uniform(0.25, 0.95), 4)
                codings.append({"segment_id": seg_id, "code": code, "source": "rule", "applied": score >= 0.5,
                                "score": score, "created_by": "qualcode-rules", "created_at": now, "active": True,
                                "codebook_version": book.version,
                                "evidence": [{"start": at, "end": at + len(phrase), "text": text[at:at + len(phrase)],
                                              "pattern": phrase}]})
            if rng.random() < 0.08:
                reviews.append({"segment_id": seg_id, "reviewer": rng.choice(["Kari", "Ola"]), "created_at": now,
                                "active": True})
        full = "\n\n".join(t for _, t in texts)
        docs.append({"id": d, "content_hash": f"bench-{d}", "file_name": f"kommune-{d:03d}-{'intervju' if interview else 'plan'}.pdf",
                     "source_path": f"/bench/{d}", "municipality": f"Kommune {d:03d}", "year": 2024 + d % 2,
                     "doc_type": "intervju" if interview else "plan", "size_bytes": len(full),
                     "page_count": 1 + PER_DOC // 12, "engine": "bench", "is_transcript": interview, "text": full,
                     "attributes": {}, "informant_role": "barnevernleder" if interview else None,
                     "ingested_at": now})
    with engine.begin() as conn:
        conn.execute(insert(schema.Document.__table__), docs)
        conn.execute(insert(schema.Segment.__table__), segments)
        conn.execute(insert(schema.Coding.__table__), codings)
        conn.execute(insert(schema.SegmentReview.__table__), reviews)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"store: {len(docs)} documents, {len(segments)} segments, {len(codings)} rule codings, "
          f"{len(reviews)} finished reviews → {db}")


def timed(fn, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return max(times), result


def bench_functions(db: str) -> dict[str, float]:
    from qualcode.coding.codebook import load_codebook
    from qualcode.review.progress import overall
    from qualcode.review.queue import Filters, active_learning_order, document_order, position_key
    from qualcode.review.segment_view import load_segment
    from sqlalchemy import func, select

    from qualcode.store import schema, session_factory

    book = load_codebook()
    factory = session_factory(db)
    out = {}
    with factory() as s:
        n = s.scalar(select(func.max(schema.Segment.id)))
        rng = random.Random(3)
        ids = [rng.randint(1, n) for _ in range(30)]
        loads = []
        for i in ids:
            t = time.perf_counter()
            load_segment(s, i)
            loads.append(time.perf_counter() - t)
        out["load_segment (max of 30)"] = max(loads)
        out["load_segment (median)"] = statistics.median(loads)
        out["queue: first page, default filters"] = timed(lambda: document_order(s, Filters()))[0]
        late = position_key(s, n - 500)
        out["queue: page near the end (keyset)"] = timed(lambda: document_order(s, Filters(), late))[0]
        out["queue: code filter"] = timed(lambda: document_order(s, Filters(code="barriere.kapasitet")))[0]
        out["queue: confidence band 'high'"] = timed(lambda: document_order(s, Filters(band="high")))[0]
        out["queue: 'done' (sparse)"] = timed(lambda: document_order(s, Filters(status="done")))[0]
        out["queue: not done by me"] = timed(lambda: document_order(s, Filters(status="todo_me", reviewer="Kari")))[0]
        out["progress counts"] = timed(lambda: overall(s, "Kari"))[0]
        t = time.perf_counter()
        ranked = active_learning_order(s, 200, book, Filters())
        if ranked is not None:
            out["(active-learning ranking, first call incl. imports)"] = time.perf_counter() - t
            out["active-learning ranking (uncached, 1000)"] = timed(
                lambda: active_learning_order(s, 1000, book, Filters()), repeat=3)[0]
        else:
            print("  (qualcode.coding.active not available: active-learning order not timed)")
    return out


def bench_apptest(db: str) -> dict[str, float]:
    from streamlit.testing.v1 import AppTest

    os.environ["QUALCODE_DB"] = db
    out = {}
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["reviewer"] = "Bench"
    t = time.perf_counter()
    at.run()
    out["(app start incl. imports + Oversikt page)"] = time.perf_counter() - t
    from qualcode.app.ranking import ranking_for

    t = time.perf_counter()
    ranking_for(db).wait(60)  # the app ranks the queue in the background from the start
    out["(background ranking at app start)"] = time.perf_counter() - t
    t = time.perf_counter()
    at.switch_page("qualcode/app/pages/gjennomgang.py").run()
    out["Gjennomgang: first view in a session"] = time.perf_counter() - t
    assert not at.exception, [e.value for e in at.exception]
    for label, key in [("Gjennomgang: 'Hopp over'", "nav_skip"), ("Gjennomgang: 'Hopp over' again", "nav_skip")]:
        t = time.perf_counter()
        at.button(key=key).click().run()
        out[label] = time.perf_counter() - t
    accept = next((b for b in at.button if b.key and b.key.startswith("yes_") and not b.disabled), None)
    if accept is not None:
        t = time.perf_counter()
        accept.click().run()
        out["Gjennomgang: 'Godta' (write + rerun)"] = time.perf_counter() - t
    t = time.perf_counter()
    at.button(key="nav_done").click().run()
    out["Gjennomgang: 'Ferdig – neste' (write + rerun)"] = time.perf_counter() - t
    assert not at.exception, [e.value for e in at.exception]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=50_000)
    parser.add_argument("--db", help="reuse (or create) this store instead of a temporary one")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "bench.db")
        if not Path(db).exists():
            t = time.perf_counter()
            build(db, args.segments)
            print(f"built in {time.perf_counter() - t:.1f} s")
        timings = {**bench_functions(db), **bench_apptest(db)}
    failed = []
    for name, seconds in timings.items():
        checked = not name.startswith("(")
        flag = "" if not checked or seconds < TARGET else "  ← above target"
        if flag:
            failed.append(name)
        print(f"{seconds * 1000:9.1f} ms  {name}{flag}")
    print(f"target: < {TARGET:.0f} s per page answer — " + ("met" if not failed else f"MISSED: {', '.join(failed)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
