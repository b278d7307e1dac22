"""Commands that learn from reviewers: train, evaluate, queue."""
from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from qualcode.cli.app import DB_HELP, UserError, app, console, err_console, existing_store

# sklearn, spaCy and the store load inside the commands so `--help` stays fast.



def _fmt(x) -> str:
    if x is None:
        return "–"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


@app.command()
def train(
    db: str = typer.Option(None, "--db", help=DB_HELP),
    codebook: Path = typer.Option(None, "--codebook", exists=True, dir_okay=False,
                                  help="Codebook YAML (default: codebooks/barnevern.yaml)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the same data and seed give the same model)."),
    recode: bool = typer.Option(True, "--recode/--no-recode",
                                help="Re-code segments not yet reviewed with the new model (the review queue reads these)."),
    base: bool = typer.Option(False, "--base", help="Rebuild the base model that ships beside the codebook from "
                                                   "every reference set (no store needed)."),
) -> None:
    """Train the model on every segment a reviewer marked done, on top of the shipped base model.

    Only reviewers' decisions count as labels, never rule or model suggestions; they are
    weighted up next to the shipped reference data, so the model adapts to your corpus.
    The model is stored as a new version tied to the codebook version; after a codebook
    change the old model is not used until you train again. The new model and its
    re-codings are switched on together at the end: an interrupted `train` changes nothing.

    With --base, rebuild `codebooks/barnevern.model.npz` (the model `classify`, `run` and
    the app use by default) from the reference sets: ../shared/eval (dev, municipal) when
    present and codebooks/reference/*.jsonl.

    Examples: `qualcode train --db qualcode.db`   `qualcode train --base`
    """
    if base:
        _train_base(codebook, seed)
        return
    from qualcode.coding.coder import current_coder
    from qualcode.coding.store_codebook import codebook_path_for
    from qualcode.coding.training import NothingToTrain, train_from_store
    from qualcode.store import session_factory

    db = existing_store(db)
    factory = session_factory(db)
    coder = current_coder(codebook_path_for(db, codebook))  # the store's own codebook once edited
    err_console.print(f"NLP pipeline: {coder.pipeline}; codebook {coder.codebook.version}", highlight=False)
    try:
        result = train_from_store(factory, actor="cli", coder=coder, seed=seed, apply=recode)
    except NothingToTrain as err:
        raise UserError(str(err)) from None
    m = result.metrics
    from rich.table import Table

    table = Table(title=f"Model {result.version}: inner cross-validation per code", title_justify="left")
    for col in ("code", "pos", "blend", "thr", "calib", "κ CV", "κ rules"):
        table.add_column(col, justify="left" if col == "code" else "right", no_wrap=True)
    for code, v in m["codes"].items():
        table.add_row(code, str(v["n_pos"]), f"{v['weight']:.2f}", f"{v['threshold']:.2f}",
                      "yes" if v["calibrated"] else "no", _fmt(v["cv_kappa"]), _fmt(v["rule_kappa"]))
    console.print(table)
    console.print(
        f"Trained on {result.n_labelled} reviewed segment(s), {m.get('n_reference', 0)} reference segment(s) and "
        f"{m['n_examples']} codebook example(s) in "
        f"{result.seconds:.1f} s. Codes where the model changes the rule decision: {m['codes_learned']}. "
        f"Mean inner-CV kappa {_fmt(m['macro_cv_kappa'])} vs rules {_fmt(m['macro_rule_kappa'])} "
        f"(codes with >= 5 positives; optimistic, chosen on these folds - use `qualcode evaluate --cv` "
        f"for an honest estimate).", soft_wrap=True, highlight=False)
    if m.get("one_document"):
        console.print("Every reviewed segment comes from one document, so the model keeps the base model's "
                      "decisions: a change can only be checked on a document it did not learn from. Review "
                      "segments of a second document and train again.", soft_wrap=True, highlight=False)
    if recode:
        console.print(f"Wrote {result.recoded} model coding(s) for segments not yet reviewed.")


def _train_base(codebook: Path | None, seed: int) -> None:
    from qualcode.coding.coder import Coder
    from qualcode.coding.base import build_base
    from qualcode.coding.codebook import load_codebook
    from qualcode.coding.rules import RuleCoder
    from qualcode.nlp import load_nlp, pipeline_name

    book, nlp = load_codebook(codebook), load_nlp()
    coder = Coder(book, RuleCoder(book, nlp), pipeline_name(nlp))

    err_console.print(f"NLP pipeline: {coder.pipeline}; codebook {coder.codebook.version}", highlight=False)
    model, path = build_base(coder, seed=seed, progress=lambda msg: err_console.print(msg, highlight=False))
    info = model.info
    for s in info["sets"]:
        console.print(f"  {s['name']}: {s['segments']} segments from {s['documents']} document(s) ({s['file']})",
                      highlight=False)
    learned = sum(model.decided_by(c) == "model" for c in model.code_ids)
    console.print(f"Base model {model.version} → {path} ({path.stat().st_size / 1e6:.1f} MB): C={model.C}, "
                  f"learned decisions for {learned} of {len(model.code_ids)} codes, "
                  f"{sum(map(len, model.terms.values()))} learned evidence terms, {info['seconds']} s. "
                  f"Genres: {info['genres']}", highlight=False, soft_wrap=True)


@app.command()
def evaluate(
    reference: Path = typer.Argument(None, exists=True, dir_okay=False,
                                     help='Labelled JSON Lines {"id", "text", "codes"[, "source", "genre"]}.'),
    cv: int = typer.Option(None, "--cv", min=2, help="K-fold cross-validation of the trained model (same path as classify --train)."),
    codebook: Path = typer.Option(None, "--codebook", exists=True, dir_okay=False,
                                  help="Codebook YAML (default: codebooks/barnevern.yaml)."),
    predictions: Path = typer.Option(None, "--predictions", exists=True, dir_okay=False,
                                     help='Score these predictions {"id", "codes", "scores"} instead of coding.'),
    output: Path = typer.Option(None, "-o", "--output", help="Write the predictions that were scored (JSON Lines)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold split and the model."),
    as_json: bool = typer.Option(False, "--json", help="Print only the summary as JSON."),
    rules_only: bool = typer.Option(False, "--rules-only", help="Score the codebook's patterns alone, no model."),
    by: str = typer.Option(None, "--by", help="Leave one group out: 'document', 'genre', 'family' (rapport / plan / "
                                              "intervju) or 'set'; the base model is refitted without each group "
                                              "and codes it (the honest figure)."),
    workers: int = typer.Option(1, "--workers", min=1, help="With --by: processes that fit the folds in parallel."),
    folds: int = typer.Option(None, "--folds", min=2, help="With --by: deal the groups into this many folds and leave "
                                                          "out one fold of whole groups at a time (faster; each "
                                                          "segment is still coded by a fit that never saw its group)."),
) -> None:
    """Score coding against reference labels: per-code precision, recall, F1, kappa, AP.

    Without --cv the default coder (rules + shipped base model) is scored - optimistic on the
    reference sets the base model was trained on - or the given --predictions; with --cv K
    the model is adapted and tested K times on the reference itself (on top of the shipped
    base model, which has seen the project's reference sets). Macro kappa averages
    codes with >= 5 reference positives, exactly as score_codes.py.

    With --by, REFERENCE is optional (default: every project reference set) and the table
    is per genre and per code: kappa, F1, precision and coverage on held-out groups only.

    Examples: `qualcode evaluate --by document`   `qualcode evaluate --by document --folds 20 --workers 2`
    `qualcode evaluate dev.jsonl --cv 5 -o cv.jsonl`
    """
    from qualcode.cli.coding_cmds import read_jsonl, write_jsonl
    from qualcode.coding.evaluation import cross_validate, score

    if by is not None:
        _evaluate_by(reference, by, codebook, seed, as_json, output, workers, folds)
        return
    if folds is not None:
        raise UserError("--folds deals the groups of --by into folds: give --by document (or genre, family, set) too")
    if reference is None:
        raise UserError("give a REFERENCE file (or --by document|genre|set for the project's reference sets)")
    if cv is not None and predictions is not None:
        raise UserError("give either --cv or --predictions, not both")
    records = read_jsonl(reference, ("id", "text", "codes"))
    if not records:
        raise UserError(f"{reference}: no records")
    started = time.perf_counter()
    if predictions is not None:
        preds = read_jsonl(predictions, ("id",))
        what = f"predictions from {predictions}"
    else:
        from qualcode.coding.coder import current_coder

        coder = current_coder(codebook)
        if rules_only:
            coder = coder.with_model(None)
        err_console.print(f"NLP pipeline: {coder.pipeline}; codebook {coder.codebook.version}", highlight=False)
        if cv is None:
            preds = coder.predict_records(records)
            what = f"base model {coder.model.version}" if coder.model is not None else "codebook rules alone"
        else:
            preds = cross_validate(records, cv, coder, seed=seed,
                                   progress=lambda i, k: err_console.print(f"fold {i}/{k} done", highlight=False))
            what = f"{cv}-fold cross-validation (seed {seed})"
    try:
        report = score(records, preds)
    except ValueError as err:
        raise UserError(str(err)) from None
    if output is not None:
        write_jsonl(preds, output)
    if as_json:
        typer.echo(json.dumps(report.summary))
        return
    for level, rows in (("code", report.codes()), ("theme", report.themes())):
        from rich import box
        from rich.table import Table

        table = Table(title=f"{reference.name}: {what} — per {level}", title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False, collapse_padding=True)
        for col in (level, "sup", "pred", "P", "R", "F1", "kappa", "AP"):
            table.add_column(col, justify="left" if col == level else "right", no_wrap=True)
        for row in rows.itertuples(index=False):
            cells = [row.key, str(row.support), str(row.predicted), _fmt(row.precision), _fmt(row.recall),
                     _fmt(row.f1), _fmt(row.kappa), _fmt(row.ap)]
            table.add_row(*[f"[dim]{c}[/dim]" if row.support < 5 else c for c in cells])
        console.print(table)
    codes = report.codes()
    scored = codes[codes["support"] >= 5]
    console.print(f"Macro precision {scored['precision'].mean():.3f}, recall {scored['recall'].mean():.3f}, "
                  f"F1 {scored['f1'].mean():.3f} over {len(scored)} code(s) with >= 5 positives "
                  f"(dimmed rows are not averaged); {time.perf_counter() - started:.1f} s.", highlight=False)
    console.print(json.dumps(report.summary), highlight=False, soft_wrap=True)
    if output is not None:
        err_console.print(f"Predictions → {output}")


BY = {"document": "doc", "doc": "doc", "genre": "genre", "family": "family", "set": "set"}


def _evaluate_by(reference: Path | None, by: str, codebook: Path | None, seed: int, as_json: bool,
                 output: Path | None, workers: int, folds: int | None = None) -> None:
    """Leave-one-document/genre/set-out tables (see qualcode.coding.validation)."""
    from qualcode.cli.coding_cmds import write_jsonl
    from qualcode.coding.coder import current_coder
    from qualcode.coding.reference import file_set, load_reference
    from qualcode.coding.validation import code_table, genre_table, hold_out

    if by not in BY:
        raise UserError(f"--by must be one of document, genre, family, set (got {by!r})")
    try:
        records = load_reference([file_set(reference)] if reference is not None else None)
    except ValueError as err:
        raise UserError(str(err)) from None
    if not records:
        raise UserError("no reference records: pass a file, or keep ../shared/eval or codebooks/reference/ beside the repo")
    coder = current_coder(codebook)
    groups = len({r[BY[by]] for r in records})
    if groups < 2:
        raise UserError(f"--by {by}: the reference has only {groups} {by}(s); nothing to leave out")
    folds = folds if folds is not None and folds < groups else None
    what = f"one fold of whole {by}s at a time ({folds} folds of {groups} groups" if folds else \
        f"one {by} at a time ({groups} groups"
    err_console.print(f"NLP pipeline: {coder.pipeline}; codebook {coder.codebook.version}; leaving out {what}, "
                      f"{len(records)} segments)", highlight=False)
    started = time.perf_counter()
    from rich.progress import Progress

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task(f"leave-one-{by}-out", total=folds or groups)
        held = hold_out(records, coder, BY[by], seed=seed, workers=workers, folds=folds,
                        progress=lambda i, n, g: bar.update(task, completed=i, description=f"held out {g}"))
    ids = coder.codebook.code_ids
    genres, codes = genre_table(held, ids), code_table(held, ids)
    if output is not None:
        write_jsonl(held.model, output)
    if as_json:
        typer.echo(json.dumps({"by": by, "groups": genres.to_dict("records")}))
        return
    title = f"Held out by {by}, {folds} folds of whole {by}s" if folds else f"Leave-one-{by}-out"
    console.print(render_markdown_table(genres, f"{title}: held-out macro kappa per genre / set "
                                                f"(model vs rules alone), precision and coverage"), soft_wrap=True, markup=False)
    console.print(render_markdown_table(codes, f"{title}: per code over all held-out segments"), markup=False,
                  soft_wrap=True)
    console.print(f"{len(records)} segments, {groups} groups{f' in {folds} folds' if folds else ''}, "
                  f"{time.perf_counter() - started:.0f} s. Coverage = share "
                  "of reference codes with evidence (codebook patterns and signals, or terms the fold's model "
                  "learned from its training documents; coverage_codebook: the codebook alone); kappa/F1/precision are macro over codes with >= 5 "
                  "positives in the group.", highlight=False, soft_wrap=True)


def render_markdown_table(frame, title: str) -> str:
    """A pandas frame as a Markdown table (pasteable into a closing note)."""
    cols = list(frame.columns)
    lines = [f"\n{title}\n", "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(lines)


@app.command()
def queue(
    db: str = typer.Option(None, "--db", help=DB_HELP),
    n: int = typer.Option(20, "-n", min=1, help="How many segments to list."),
    codebook: Path = typer.Option(None, "--codebook", exists=True, dir_okay=False,
                                  help="Codebook YAML (default: codebooks/barnevern.yaml)."),
) -> None:
    """List the segments whose review would teach the model most (the review app's order).

    Segments where a code's probability sits near its threshold come first, rare codes
    count extra; segments already marked done are left out. Without a current model the
    rule scores are used.

    Example: `qualcode queue -n 10`
    """
    with err_console.status("Loading the model code …"):
        from sqlalchemy import select

        from qualcode.coding.active import review_queue
        from qualcode.coding.codebook import load_codebook
        from qualcode.formats import segment_ref
        from qualcode.store import schema, session_factory

        from qualcode.coding.store_codebook import codebook_path_for

        db = existing_store(db)
        book = load_codebook(codebook_path_for(db, codebook))  # the store's own codebook once edited
    with err_console.status("Ranking the segments nobody has finished …"), session_factory(db)() as session:
        items = review_queue(session, n, book)
        D, S = schema.Document, schema.Segment
        info = {row.id: row for row in session.execute(
            select(S.id, S.seq, S.text, D.municipality, D.year, D.doc_type, D.file_name)
            .join(D, S.document_id == D.id).where(S.id.in_([i.segment_id for i in items])))}
    if not items:
        console.print("Nothing to review: every codable segment is marked done (or the store is empty).")
        return
    from rich.table import Table

    table = Table(title=f"Next {len(items)} segment(s) to review (open one in the app: /gjennomgang?segment=ID)",
                  title_justify="left")
    for col in ("#", "segment", "id", "priority", "why", "text"):
        table.add_column(col, justify="right" if col in ("#", "id", "priority") else "left",
                         ratio=1 if col in ("why", "text") else None, no_wrap=col == "segment")
    for rank, item in enumerate(items, start=1):
        row = info.get(item.segment_id)
        ref = segment_ref(row.municipality, row.year, row.doc_type, row.seq, row.file_name) if row else "?"
        snippet = " ".join((row.text if row else "").split())
        snippet = snippet[:100] + ("…" if len(snippet) > 100 else "")
        table.add_row(str(rank), ref, str(item.segment_id), f"{item.priority:.3f}", item.reason, snippet)
    console.print(table)
