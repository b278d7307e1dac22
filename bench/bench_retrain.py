"""Retraining and review-queue speed on a big store.

Targets (2 shared cores):
  - `train_from_store` on 5,000 reviewer-labelled segments: < 30 s (store read, NLP +
    rule analysis, fit with inner CV, artefact written);
  - `review_queue` over 50,000 segments: < 1 s (read from stored codings only).

The store is synthetic: segments are sentence-shuffles of the shared dev texts (or a
built-in Norwegian sample when ../shared is missing), labelled with the union of their
source segments' codes; stored model codings get seeded random scores.

    .venv/bin/python bench/bench_retrain.py [--labelled 5000] [--segments 50000]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
TRAIN_TARGET, QUEUE_TARGET = 30.0, 1.0
FALLBACK = [
    ("Kommunen skal styrke tidlig innsats i barnehage og skole.", ["begrep.tidlig_innsats", "niva.universell"]),
    ("Barneverntjenesten mangler ressurser til nye stillinger.", ["barriere.okonomi"]),
    ("Planen er forankret i kommunestyret og ledelsen.", ["suksess.forankring"]),
    ("Familier med lav inntekt får tilbud om foreldreveiledning.", ["niva.selektiv"]),
]


def sources(seed: int) -> list[tuple[str, list[str]]]:
    """(sentence, codes of the segment it came from)."""
    if not DEV.exists():
        return FALLBACK
    out = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            out += [(s, rec["codes"]) for s in re.split(r"(?<=[.!?])\s+", rec["text"]) if len(s) > 20]
    return out


def synthetic(n: int, seed: int) -> list[tuple[str, set[str]]]:
    rng = random.Random(seed)
    pool = sources(seed)
    rows = []
    for _ in range(n):
        picked = rng.sample(pool, min(len(pool), rng.randint(1, 4)))
        words = " ".join(s for s, _ in picked).split()
        words = [w for w in words if rng.random() > 0.05]  # a little variation beyond reshuffling
        rows.append((" ".join(words), {c for _, codes in picked for c in codes}))
    return rows


def build_store(db: str, n_segments: int, n_labelled: int, code_ids: list[str], seed: int) -> None:
    from sqlalchemy import insert

    from qualcode.store import schema, session_factory

    rng = random.Random(seed)
    rows = synthetic(n_segments, seed)
    per_doc = 100
    with session_factory(db).begin() as session:
        session.execute(insert(schema.Document), [
            {"id": d + 1, "content_hash": f"h{d}", "file_name": f"plan-{d}.txt", "source_path": f"plan-{d}.txt",
             "size_bytes": 1, "page_count": 1, "engine": "synthetic", "text": ""}
            for d in range((n_segments + per_doc - 1) // per_doc)])
        session.execute(insert(schema.Segment), [
            {"id": i + 1, "document_id": i // per_doc + 1, "seq": i % per_doc, "kind": "paragraph", "start": 0,
             "end": len(text), "page_start": 1, "page_end": 1, "text": text, "codable": True, "review_version": 0}
            for i, (text, _) in enumerate(rows)])
        labelled = rng.sample(range(n_segments), n_labelled)
        session.execute(insert(schema.SegmentReview), [
            {"segment_id": i + 1, "reviewer": "bench", "active": True} for i in labelled])
        session.execute(insert(schema.Coding), [
            {"segment_id": i + 1, "code": c, "source": "reviewer", "applied": True, "evidence": [],
             "created_by": "bench", "active": True} for i in labelled for c in sorted(rows[i][1]) if c in code_ids])
        session.execute(insert(schema.Coding), [
            {"segment_id": i + 1, "code": c, "source": "rule", "applied": s >= 0.5, "score": s, "evidence": [],
             "created_by": "bench", "active": True}
            for i in range(n_segments) for c in rng.sample(code_ids, 3) if (s := round(rng.random(), 3)) > 0.2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labelled", type=int, default=5000)
    parser.add_argument("--segments", type=int, default=50000)
    args = parser.parse_args()

    from sqlalchemy import func, insert, select

    from qualcode.coding.active import review_queue
    from qualcode.coding.coder import current_coder
    from qualcode.coding.training import train_from_store
    from qualcode.store import schema, session_factory

    coder = current_coder()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        t0 = time.perf_counter()
        build_store(db, args.segments, args.labelled, coder.codebook.code_ids, seed=1)
        print(f"store: {args.segments} segments, {args.labelled} labelled ({time.perf_counter() - t0:.1f} s to build)")
        factory = session_factory(db)

        with factory() as session:  # queue from rule scores (no model yet)
            t0 = time.perf_counter()
            items = review_queue(session, 50, coder.codebook)
            q_rules = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = train_from_store(factory, "bench", coder=coder)
        seconds = time.perf_counter() - t0
        print(f"train_from_store: {result.n_labelled} labelled segments in {seconds:.1f} s "
              f"(fit {result.seconds:.1f} s; {result.metrics['codes_learned']} codes learned) — target < {TRAIN_TARGET:.0f} s")
        ok &= seconds < TRAIN_TARGET
        with factory() as session:
            size = session.scalar(select(func.length(schema.ModelArtifact.payload)))
        print(f"model artefact: {size / 1e6:.1f} MB")

        rng = random.Random(2)  # model codings as `train --recode` would leave them (scores synthetic)
        with factory.begin() as session:
            done = set(session.scalars(select(schema.SegmentReview.segment_id)))
            session.execute(insert(schema.Coding), [
                {"segment_id": i, "code": c, "source": "model", "applied": s >= 0.5, "score": s, "evidence": [],
                 "created_by": "bench", "model_version": result.version, "active": True}
                for i in range(1, args.segments + 1) if i not in done
                for c in rng.sample(coder.codebook.code_ids, 3) if (s := round(rng.random(), 3)) > 0.2])
        with factory() as session:
            t0 = time.perf_counter()
            items = review_queue(session, 50, coder.codebook)
            q_model = time.perf_counter() - t0
        print(f"review_queue over {args.segments} segments: {q_rules:.2f} s from rule scores, "
              f"{q_model:.2f} s from model codings — target < {QUEUE_TARGET:.0f} s (top: {items[0].reason})")
        ok &= max(q_rules, q_model) < QUEUE_TARGET
    print("OK" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
