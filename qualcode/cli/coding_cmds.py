"""Commands that code text: classify (and, with the model, train / evaluate / queue)."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from qualcode.cli.app import UserError, app, err_console


def read_jsonl(path: Path, required: tuple[str, ...] = ("id", "text")) -> list[dict]:
    """JSON Lines records; a bad line is reported by number instead of a traceback."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise UserError(f"{path}, line {no}: not valid JSON ({err.msg})") from None
            missing = [k for k in required if k not in rec]
            if missing:
                raise UserError(f"{path}, line {no}: missing field(s) {', '.join(missing)}")
            records.append(rec)
    return records


def write_jsonl(records: list[dict], path: Path | None) -> None:
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if path is None:
        typer.get_text_stream("stdout").write(lines)
    else:
        path.write_text(lines, encoding="utf-8")


@app.command()
def classify(
    segments: Path = typer.Argument(..., exists=True, dir_okay=False, help='JSON Lines with {"id", "text"}.'),
    output: Path = typer.Option(None, "-o", "--output", help="Where to write predictions (default: stdout)."),
    codebook: Path = typer.Option(None, "--codebook", exists=True, dir_okay=False,
                                  help="Codebook YAML (default: codebooks/barnevern.yaml)."),
    train: Path = typer.Option(None, "--train", exists=True, dir_okay=False,
                               help='Labelled JSON Lines {"id", "text", "codes"} to train the model on first.'),
) -> None:
    """Code segments from a file, without a store.

    Writes one line per input line, in order: {"id", "codes": [...], "scores": {code: probability}}.
    Without --train only the codebook's transparent patterns are used.

    Example: `qualcode classify segments.jsonl -o predictions.jsonl`
    """
    from qualcode.coding.apply import current_coder

    records = read_jsonl(segments)
    coder = current_coder(codebook)
    err_console.print(f"NLP pipeline: {coder.pipeline}; codebook {coder.codebook.version}", highlight=False)
    if train is not None:
        from qualcode.coding.model import classify_with_training

        predictions = classify_with_training(coder, read_jsonl(train, ("id", "text", "codes")), records)
    else:
        from qualcode.coding.rules import predict_records

        predictions = predict_records(records, coder.rules)
    write_jsonl(predictions, output)
    if output is not None:
        err_console.print(f"Coded {len(predictions)} segment(s) → {output}")
