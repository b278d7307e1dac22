#!/usr/bin/env python3
"""Generalisation check: random report pages in the layouts that broke extraction.

Usage: .venv/bin/python bench/check_generated_layouts.py [CASES] [SEED]   (default 30 cases, seed 1)

Each case is a 3-page PDF made with the test suite's reportlab fixtures: two columns of
justified text with ruled tables set in a column (reaching into the gutter or the other
column's text), bullet lists beside text, words hyphenated at line ends and at column
feet, a paragraph running on from the left column into the right, and now and then a
full-width page.  The extracted words are compared in order with the words drawn
(difflib ratio, as the shared scorer does); a case below 0.9999 is printed with its
differences.  Exits 1 if any case is below 0.999.
"""
from __future__ import annotations

import random
import re
import sys
import tempfile
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fixtures.pdfs import BODY_FONT, BODY_SIZE, COLUMN, make_pdf  # noqa: E402
from reportlab.pdfbase.pdfmetrics import stringWidth  # noqa: E402

from qualcode.extract import extract_file  # noqa: E402

WORDS = ("barnevernet forebyggingsarbeidet tiltakene kommunestyret helsestasjonen skolehelsetjenesten familiene "
         "samarbeidet tjenestene innsatsen foreldreveiledning ansvarsfordelingen oppvekstsektoren rapporten planen "
         "evalueringen reformen koordinatoren nettverket og i på for med som til av").split()
CELL_WORDS = "tiltak ansvar skole plan familie nettverk reform rapport".split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 14))]
    return " ".join([words[0].capitalize()] + words[1:]) + "."


def wrap(text: str, rng: random.Random, width: float = COLUMN) -> list[str]:
    """Greedy lines; a long word that does not fit is often hyphenated, as report layouts do."""
    lines, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, BODY_FONT, BODY_SIZE) <= width:
            current = candidate
            continue
        if len(word) >= 8 and rng.random() < 0.7:
            for cut in range(len(word) - 3, 3, -1):
                head = (f"{current} " if current else "") + word[:cut] + "-"
                if stringWidth(head, BODY_FONT, BODY_SIZE) <= width:
                    lines.append(head)
                    current = word[cut:]
                    break
            else:
                lines.append(current)
                current = word
            continue
        if current:
            lines.append(current)
        current = word
    if current:
        lines.append(current)
    return lines


def column(rng: random.Random, side: str, drawn: list[str], height: float = 0.0) -> list:
    """Items for one column, stopping well above the footer (body text never runs into it)."""
    items = []
    while height < 420:
        kind = rng.choices(["para", "bullets", "table"], [6, 2, 2])[0]
        if kind == "para":
            text = " ".join(sentence(rng) for _ in range(rng.randint(1, 4)))
            lines = wrap(text, rng)
            items.append(("para", lines, {"justify": True}))
            drawn.append(text)
            height += 14 * len(lines) + 7
        elif kind == "bullets":
            texts = [sentence(rng) for _ in range(rng.randint(2, 4))]
            wrapped = [wrap(t, rng, COLUMN - 18) for t in texts]
            items.append(("bullets", wrapped))
            drawn.extend(texts)
            height += sum(14 * len(lines) + 3 for lines in wrapped) + 7
        else:
            cols = rng.randint(2, 3)
            rows = [[w.capitalize() for w in rng.sample(CELL_WORDS, cols)]]
            rows += [[f"{rng.choice(CELL_WORDS)} {rng.randint(1, 99)}" for _ in range(cols)]
                     for _ in range(rng.randint(2, 4))]
            shift = -rng.uniform(0, 22) if side == "right" else -rng.uniform(0, 10)
            items.append(("table", rows, {"shift": shift, "width": COLUMN - shift if side == "right" else COLUMN}))
            drawn.append(" ".join(" ".join(r) for r in rows))
            height += 18 * len(rows) + 31
    return items


def page(rng: random.Random, drawn: list[str]):
    if rng.random() < 0.2:
        text = " ".join(sentence(rng) for _ in range(5))
        drawn.append(text)
        return [("para", wrap(text, rng, 470), {"justify": True})]
    left = column(rng, "left", drawn)
    # the left column's last paragraph runs on at the top of the right column
    text = " ".join(sentence(rng) for _ in range(3)) + " og " + " ".join(rng.choice(WORDS[:15]) for _ in range(12)) + "."
    lines = wrap(text, rng)
    cut = rng.randint(2, len(lines) - 1)
    rest = lines[cut:]
    rest[0] = rest[0][:1].lower() + rest[0][1:]
    left.append(("para", lines[:cut], {"justify": True}))
    drawn.append(text)
    right = [("para", rest, {"justify": True})] + column(rng, "right", drawn, 14.0 * len(rest) + 7)
    return {"left": left, "right": right}


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def main(argv: list[str]) -> int:
    cases = int(argv[1]) if len(argv) > 1 else 30
    seed = int(argv[2]) if len(argv) > 2 else 1
    worst = 1.0
    below = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(cases):
            rng = random.Random(seed * 100_000 + case)
            drawn: list[str] = []
            pages = [page(rng, drawn) for _ in range(3)]
            path = make_pdf(Path(tmp) / f"case{case}.pdf", pages, header="Rapport om forebygging")
            want, got = words(" ".join(drawn)), words(extract_file(path).text)
            matcher = SequenceMatcher(None, want, got, autojunk=False)
            ratio = matcher.ratio()
            worst = min(worst, ratio)
            if ratio < 0.9999:
                below += 1
                print(f"case {case}: word similarity {ratio:.4f}")
                for op, a1, a2, b1, b2 in matcher.get_opcodes():
                    if op != "equal":
                        print(f"    {op}: drawn «{' '.join(want[max(0, a1 - 3):a2 + 3])[:160]}» "
                              f"extracted «{' '.join(got[max(0, b1 - 3):b2 + 3])[:160]}»")
    print(f"{cases} generated documents (seed {seed}): {cases - below} exact, worst word similarity {worst:.4f}")
    return 1 if worst < 0.999 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
