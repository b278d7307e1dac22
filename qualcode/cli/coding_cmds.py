"""Commands that code text: classify (and, with the model, train / evaluate / queue)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from qualcode.cli.app import UserError, app, err_console
from qualcode.files import read_json_lines


def read_jsonl(path: Path, required: tuple[str, ...] = ("id", "text")) -> list[dict]:
    """JSON Lines records; a bad line is reported by number instead of a traceback."""
    try:
        return [rec for _, rec in read_json_lines(path, required)]
    except ValueError as err:
        raise UserError(str(err)) from None


def write_jsonl(records: list[dict], path: Path | None) -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path is None:
        typer.get_text_stream("stdout").write(lines)
    else:
        from qualcode.files import write_text_atomic

        write_text_atomic(path, lines)


@app.command()
def classify(
    segments: Path = typer.Argument(..., exists=True, dir_okay=False, help='JSON Lines with {"id", "text"}.'),
    output: Path = typer.Option(None, "-o", "--output", help="Where to write predictions (default: stdout)."),
    codebook: Path = typer.Option(None, "--codebook", exists=True, dir_okay=False,
                                  help="Codebook YAML (default: codebooks/barnevern.yaml)."),
    train: Path = typer.Option(None, "--train", exists=True, dir_okay=False,
                               help='Labelled JSON Lines {"id", "text", "codes"[, "source"]} to adapt the model to '
                                    'first (weighted up; "source" names the document, for grouped validation).'),
    rules_only: bool = typer.Option(False, "--rules-only", help="Use the codebook's patterns alone, no model."),
    workers: int = typer.Option(None, "--workers", min=1,
                                help="Processes to code in (default: 2 for 2,000 segments or more, else 1)."),
) -> None:
    """Code segments from a file, without a store.

    Writes one line per input line, in order: {"id", "codes": [...], "scores": {code: probability}}.
    By default the codebook's rules and its shipped base model code together; --train
    first adapts the model to labelled segments of your own corpus.

    Example: `qualcode classify segments.jsonl -o predictions.jsonl`
    """
    from qualcode.coding.coder import current_coder

    records = read_jsonl(segments)
    coder = current_coder(codebook)
    if rules_only:
        coder = coder.with_model(None)
    if train is not None:
        from qualcode.coding.training import adapt

        labelled = read_jsonl(train, ("id", "text", "codes"))
        if not labelled:
            raise UserError(f"{train}: no labelled records to train on")
        groups = [r.get("source") for r in labelled]
        model = adapt(coder, [r["text"] for r in labelled], [set(r["codes"]) for r in labelled],
                      groups if all(groups) else None)
        coder = coder.with_model(model)
        if model.one_document:
            err_console.print(f"Every labelled segment in {train.name} comes from one document (\"source\"), so the "
                              "model keeps the base model's decisions: a change can only be checked on a document "
                              "it did not learn from. Add labelled segments of a second document.", markup=False, highlight=False)
    model = f"model {coder.model.version or 'adapted to ' + train.name}" if coder.model is not None else "rules only"
    err_console.print(f"NLP pipeline: {coder.pipeline}; codebook {coder.codebook.version}; {model}", highlight=False)
    predictions = coder.predict_records(records, workers=workers)
    write_jsonl(predictions, output)
    if output is not None:
        err_console.print(f"Coded {len(predictions)} segment(s) → {output}")
