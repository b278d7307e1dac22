"""Reference data: segments coded by people, from many documents and genres.

A reference set is a JSON Lines file of ``{"id", "text", "codes", "source"[, "genre"]}``.
"source" names the document a segment comes from (the unit of leave-one-document-out
validation); the genre (rapport, plan, intervju, ...) is the file's own "genre" field or a
rule of the set (a fixed genre, or one chosen by the source's file-name prefix).

The shipped set lives in ``codebooks/reference/`` (with its provenance README); the
project's evaluation sets are read from ``../shared/eval`` when a checkout has them. They
are never copied into the repository.

Written examples (``codebooks/examples/``) are a different kind of labelled text: short
passages written for one code each from the codebook specification, labelled by their writer
alone. Like the codebook's own definitions they always train and are never validated on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.files import read_json_lines
from qualcode.paths import CODEBOOKS, PROJECT_ROOT

SHARED_EVAL = PROJECT_ROOT.parent / "shared" / "eval"
SHIPPED = CODEBOOKS / "reference"
EXAMPLES = CODEBOOKS / "examples"
# genres grouped into the three kinds of text the targets speak of
GENRE_FAMILY = {"rapport": "rapport", "revisjon": "rapport", "tilsyn": "rapport", "survey": "rapport",
                "plan": "plan", "plan-nynorsk": "plan", "plan-pdf": "plan", "intervju": "intervju"}


@dataclass(frozen=True)
class ReferenceSet:
    """One JSON Lines file of coded segments and how to tell each segment's genre."""

    name: str
    path: Path
    genre: str | None = None  # every segment has this genre ...
    genre_by_prefix: dict[str, str] = field(default_factory=dict)  # ... or by the source's prefix

    def genre_of(self, record: dict) -> str:
        if record.get("genre"):
            return str(record["genre"])
        source = str(record.get("source") or "")
        for prefix, genre in self.genre_by_prefix.items():
            if source.startswith(prefix):
                return genre
        if self.genre:
            return self.genre
        raise ValueError(f"{self.path}: segment {record.get('id')!r} has no genre and the set names none")


def project_sets() -> list[ReferenceSet]:
    """The project's reference sets, in a fixed order: dev and municipal (../shared/eval, when
    present) and every shipped set in codebooks/reference/."""
    sets = [ReferenceSet("dev", SHARED_EVAL / "dev.jsonl", genre="rapport"),
            ReferenceSet("municipal", SHARED_EVAL / "municipal" / "segments.jsonl",
                         genre_by_prefix={"plan": "plan", "intervju": "intervju", "statusrapport": "rapport"})]
    sets += shipped_sets()
    return [s for s in sets if s.path.is_file()]


def shipped_sets() -> list[ReferenceSet]:
    """Reference sets that ship with the codebook (each carries its own genre field), in number
    order (ref2 … ref9, ref10): the order they were made, in which `train --base` and
    `evaluate --by set` list them."""
    if not SHIPPED.is_dir():
        return []
    return [ReferenceSet(p.stem, p) for p in sorted(SHIPPED.glob("*.jsonl"), key=_number_order)]


def _number_order(path: Path) -> list:
    """Sort key that reads the digits in a name as a number: ref9 before ref10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.stem)]


def load_set(ref: ReferenceSet) -> list[dict]:
    """Records with ``doc`` ("set:source", unique across sets), ``genre``, ``family`` (rapport,
    plan, intervju) and ``set`` added."""
    out = []
    for _, rec in read_json_lines(ref.path, ("id", "text", "codes")):
        source = str(rec.get("source") or ref.name)
        genre = ref.genre_of(rec)
        out.append({**rec, "doc": f"{ref.name}:{source}", "genre": genre, "family": GENRE_FAMILY.get(genre, genre),
                    "set": ref.name})
    return out


def load_reference(sets: list[ReferenceSet] | None = None) -> list[dict]:
    """All records of the given sets (default: `project_sets()`), ids made unique per set."""
    records = []
    for ref in project_sets() if sets is None else sets:
        records += load_set(ref)
    seen: set[str] = set()
    for rec in records:
        if rec["id"] in seen:
            rec["id"] = f"{rec['set']}:{rec['id']}"
        seen.add(rec["id"])
    return records


def file_set(path: Path, genre: str | None = None) -> ReferenceSet:
    """A set from any labelled file (e.g. `--reference FILE`); genre from its records or ``genre``."""
    return ReferenceSet(Path(path).stem, Path(path), genre=genre or "ukjent")


def written_examples(code_ids, folder: Path = EXAMPLES) -> tuple[list[str], list[list[str]]]:
    """Texts and codes of the examples written for these codes (``folder/*.jsonl``, kind
    "positive"; the writers' near misses are kept as provenance, not trained on: with them
    held-out kappa fell from 0.592 to 0.589 by set). Codes outside ``code_ids`` are dropped,
    and examples left without a code are skipped, so another codebook gets none."""
    known = set(code_ids)
    texts, codes = [], []
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        for no, rec in read_json_lines(path):
            if not isinstance(rec.get("text"), str) or not isinstance(rec.get("codes"), list):
                raise ValueError(f"{path}, line {no}: an example needs a \"text\" and a list of \"codes\"")
            mine = [c for c in rec["codes"] if c in known]
            if rec.get("kind", "positive") == "positive" and mine and rec["text"].strip():
                texts.append(rec["text"])
                codes.append(mine)
    return texts, codes
