"""Written examples: labelled passages that always train, read safely, and reach the base model."""
from __future__ import annotations

import json
from collections import Counter

import pytest

from qualcode.coding import validation
from qualcode.coding.codebook import Codebook, load_codebook
from qualcode.coding.coder import Coder
from qualcode.coding.reference import EXAMPLES, written_examples
from qualcode.coding.rules import RuleCoder
from test_model import BOOK


def shipped() -> list[dict]:
    return [json.loads(line) for path in sorted(EXAMPLES.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_shipped_examples_are_labelled_with_the_codebooks_codes():
    book, rows = load_codebook(), shipped()
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r["codes"]) <= set(book.code_ids), r["id"]
        assert (r["target"] in r["codes"]) == (r["kind"] == "positive"), r["id"]
    positives = Counter(r["target"] for r in rows if r["kind"] == "positive")
    assert set(positives) == set(book.code_ids) and min(positives.values()) >= 10


def test_contrast_pairs_separate_their_two_codes():
    pairs: dict[str, list[dict]] = {}
    for r in shipped():
        if "pair" in r:
            pairs.setdefault(r["pair"], []).append(r)
    assert pairs
    for name, versions in pairs.items():
        a, b = name.split(":")[0].split("|")
        assert sorted(v["target"] for v in versions) == sorted([a, b]), name
        for v in versions:
            partner = b if v["target"] == a else a
            assert v["target"] in v["codes"] and partner not in v["codes"], name


def test_only_positives_with_a_known_code_train(tmp_path):
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"kind": "positive", "codes": ["dyr.hund", "fremmed.kode"], "text": "Hunden bjeffer."},
        {"kind": "near_miss", "codes": ["dyr.katt"], "text": "Katten sover, ingen hund her."},
        {"kind": "positive", "codes": ["fremmed.kode"], "text": "Noe helt annet."},
        {"codes": ["dyr.katt"], "text": "Katten maler."},  # kind defaults to positive
    ]) + "\n\n", encoding="utf-8")
    texts, codes = written_examples(["dyr.hund", "dyr.katt"], tmp_path)
    assert texts == ["Hunden bjeffer.", "Katten maler."]
    assert codes == [["dyr.hund"], ["dyr.katt"]]
    assert written_examples(["dyr.hund"], tmp_path / "missing") == ([], [])


@pytest.mark.parametrize("line, reason", [
    ('{"codes": ["dyr.hund"], "text": ', "not valid JSON"),
    ('{"codes": "dyr.hund", "text": "Hund."}', 'an example needs a "text" and a list of "codes"'),
    ('["Hund."]', 'not a JSON object'),
])
def test_a_broken_example_names_file_and_line(tmp_path, line, reason):
    (tmp_path / "bad.jsonl").write_text('{"codes": ["dyr.hund"], "text": "Hund."}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"bad.jsonl, line 2: {reason}"):
        written_examples(["dyr.hund"], tmp_path)


def test_written_examples_train_next_to_the_codebook_text(tmp_path, monkeypatch):
    (tmp_path / "w.jsonl").write_text(json.dumps({"codes": ["dyr.hund"], "text": "Valpen logrer."}) + "\n",
                                      encoding="utf-8")
    monkeypatch.setattr(validation, "written_examples", lambda ids: written_examples(ids, tmp_path))
    book = Codebook.from_yaml_text(BOOK)
    data, codes, weights = validation.codebook_rows(Coder(book, RuleCoder(book), "test"))
    assert len(data) == len(codes) == len(weights) and codes[-1] == ["dyr.hund"]
    assert "valp" in " ".join(data.lemmas[-1])


def test_the_shipped_base_model_was_built_with_the_shipped_examples():
    """Editing the examples without `qualcode train --base` leaves a base that never read them."""
    from qualcode.coding.base import base_status
    from qualcode.coding.coder import current_coder

    coder = current_coder()
    base, reason = base_status(coder.codebook)
    assert base is not None, reason
    data, codes, _ = validation.codebook_rows(coder)
    asked = 0 if data.questions is None else int(data.questions.sum())  # interviewer questions never train
    assert base.n_always == len(codes) - asked

