"""The learned coder on a tiny codebook whose rules miss a word the labels teach."""
from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from qualcode.coding.codebook import Codebook
from qualcode.coding.evaluation import binary_kappa
from qualcode.coding.features import analyse
from qualcode.coding.model import MIN_LABELLED, CodeModel, rule_prior
from qualcode.coding.training import classify_with_training
from qualcode.coding.rules import RuleCoder

BOOK = """
name: Test
version_label: "test v1"
themes:
  - id: dyr
    name: Dyr
    codes:
      - id: dyr.hund
        name: Hund
        definition: Tekst om hunder og valper.
        patterns: ["hund*"]
        examples: ["Hunden løp over plenen.", "Vi har en liten hund hjemme."]
      - id: dyr.katt
        name: Katt
        definition: Tekst om katter.
        patterns: ["katt*"]
  - id: mat
    name: Mat
    codes:
      - id: mat.frukt
        name: Frukt
        definition: Tekst om frukt.
        patterns: ["eple*", "pære*"]
"""

FILLER = ["Været var fint i dag.", "Kommunen har vedtatt en ny plan.", "Skolen åpner igjen i august.",
          "Bussen kom for sent.", "Møtet varte i to timer.", "Biblioteket har fått nye bøker."]
DOG = ["Hunden bjeffet hele natten.", "Naboen har kjøpt en hund.", "Valpen sov i kurven.",
       "Valpene lekte i hagen.", "En valp trenger mye tilsyn."]  # "valp" is not in the rules
CAT = ["Katten satt i vinduet.", "Vi passer naboens katt."]
FRUIT = ["Hun spiste et eple.", "Pæra var moden."]


def make(n: int, seed: int) -> tuple[list[str], list[set[str]]]:
    """Texts with known codes: a dog sentence (half of them about puppies), cat, fruit, filler."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        parts, codes = rng.sample(FILLER, 2), set()
        if rng.random() < 0.35:
            parts.append(rng.choice(DOG)); codes.add("dyr.hund")
        if rng.random() < 0.25:
            parts.append(rng.choice(CAT)); codes.add("dyr.katt")
        if rng.random() < 0.25:
            parts.append(rng.choice(FRUIT)); codes.add("mat.frukt")
        rng.shuffle(parts)
        texts.append(" ".join(parts)); labels.append(codes)
    return texts, labels


@pytest.fixture(scope="module")
def book() -> Codebook:
    return Codebook.from_yaml_text(BOOK)


@pytest.fixture(scope="module")
def rules(book) -> RuleCoder:
    return RuleCoder(book)


@pytest.fixture(scope="module")
def fitted(book, rules) -> CodeModel:
    texts, labels = make(120, seed=1)
    return CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules)


def rule_decisions(rules, texts, code):
    return np.array([any(s.code == code and s.score >= 0.5 for s in sugs) for sugs in rules.code_texts(texts)])


def test_rule_prior_keeps_the_rule_decision_at_half():
    scores = np.array([[0.0, 0.3, 0.5, 0.75, 1.0]])
    for m in (0.3, 0.5, 0.8):
        prior = rule_prior(scores, np.full(5, m))
        assert np.all((prior >= 0.5) == (scores >= m))
        assert np.all((prior >= 0) & (prior <= 1))
        assert np.all(np.diff(prior[0]) >= 0)  # monotone


def test_learns_what_the_rules_miss(fitted, rules):
    """dyr.hund rules only know "hund"; labels also mark puppies - the model must pick that up."""
    texts, labels = make(150, seed=2)
    truth = np.array(["dyr.hund" in ls for ls in labels])
    proba = fitted.predict_proba(texts, rules=rules)
    j = fitted.code_ids.index("dyr.hund")
    learned = proba[:, j] >= fitted.thresholds["dyr.hund"]
    assert fitted.fits["dyr.hund"].weight > 0
    assert binary_kappa(truth, learned) > binary_kappa(truth, rule_decisions(rules, texts, "dyr.hund")) + 0.2


def test_probabilities_and_thresholds_are_in_unit_interval(fitted, rules):
    texts, _ = make(60, seed=3)
    proba = fitted.predict_proba(texts, rules=rules)
    assert proba.shape == (60, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    assert all(0 < t < 1 for t in fitted.thresholds.values())
    assert fitted.fits["dyr.hund"].platt is not None  # enough positives and negatives to calibrate
    assert fitted.n_always == 5  # the codebook's definitions (3) and example sentences (2) were used


def test_calibration_is_roughly_honest(fitted, rules):
    """Among held-out texts given >= 0.8 for dyr.hund, most really are about dogs (and few below 0.2)."""
    texts, labels = make(300, seed=4)
    p = fitted.predict_proba(texts, rules=rules)[:, fitted.code_ids.index("dyr.hund")]
    truth = np.array(["dyr.hund" in ls for ls in labels])
    assert truth[p >= 0.8].mean() > 0.8
    assert truth[p <= 0.2].mean() < 0.2


def test_few_labels_keep_the_rule_decisions(book, rules):
    texts, labels = make(MIN_LABELLED - 10, seed=5)
    model = CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules)
    test_texts, _ = make(80, seed=6)
    decided = model.decide(model.predict_proba(test_texts, rules=rules))
    for code in model.code_ids:
        assert model.fits[code].weight == 0
        ours = np.array([code in codes for codes in decided])
        assert np.array_equal(ours, rule_decisions(rules, test_texts, code))


def test_fit_is_reproducible_and_survives_bytes(book, rules, fitted):
    texts, labels = make(120, seed=1)
    again = CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules)
    test_texts, _ = make(40, seed=7)
    a = fitted.predict_proba(test_texts, rules=rules)
    assert np.allclose(a, again.predict_proba(test_texts, rules=rules))
    loaded = CodeModel.from_bytes(fitted.to_bytes())
    assert loaded.codebook_version == book.version
    assert np.allclose(a, loaded.predict_proba(test_texts, rules=rules))


def test_a_saved_model_reads_text_at_the_gain_it_was_fitted_at(monkeypatch, fitted, rules):
    """The text gain is a tuning constant; a store's model saved under one value must predict the same
    after an upgrade changes it, and models saved before the gain was stored were all fitted at 1.5."""
    import io
    import json as json_module

    from qualcode.coding import model as model_module

    texts, _ = make(40, seed=8)
    before = fitted.predict_proba(texts, rules=rules)
    monkeypatch.setattr(model_module, "TEXT_GAIN", fitted.text_gain * 3)
    loaded = CodeModel.from_bytes(fitted.to_bytes())
    assert loaded.text_gain == fitted.text_gain
    assert np.allclose(before, loaded.predict_proba(texts, rules=rules))

    with np.load(io.BytesIO(fitted.to_bytes()), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json_module.loads(bytes(arrays["header"]).decode("utf-8"))
    del header["text_gain"]
    arrays["header"] = np.frombuffer(json_module.dumps(header).encode("utf-8"), dtype=np.uint8)
    assert CodeModel.from_arrays(arrays).text_gain == model_module.LEGACY_TEXT_GAIN == 1.5


def test_loaded_model_refuses_rules_of_another_codebook(fitted):
    other = Codebook.from_yaml_text(BOOK.replace('"test v1"', '"test v2"'))
    loaded = CodeModel.from_bytes(fitted.to_bytes())
    with pytest.raises(ValueError, match="retrain"):
        loaded.predict_proba(["Hunden sov."], rules=RuleCoder(other))
    with pytest.raises(ValueError, match="rules"):
        loaded.predict_proba(["Hunden sov."], rules=None)  # no rule coder


def test_predict_records_shape(fitted, rules):
    records = [{"id": "a", "text": "Valpen bjeffet. Hun spiste et eple."}, {"id": "b", "text": ""}]
    out = fitted.predict_records(records, rules=rules)
    assert [r["id"] for r in out] == ["a", "b"]
    for rec in out:
        assert set(rec["scores"]) == set(fitted.code_ids)
        assert set(rec["codes"]) <= set(fitted.code_ids)
        assert all(rec["scores"][c] >= fitted.thresholds[c] - 1e-4 for c in rec["codes"])
    assert "mat.frukt" in out[0]["codes"]


def _Coder(book, rules):  # what current_coder() returns for a codebook without a base model
    from qualcode.coding.coder import Coder

    return Coder(book, rules, "test")


def test_classify_with_training_ignores_unknown_codes(book, rules):
    texts, labels = make(60, seed=8)
    train = [{"id": str(i), "text": t, "codes": sorted(ls) + ["ukjent.kode"]} for i, (t, ls) in enumerate(zip(texts, labels))]
    out = classify_with_training(_Coder(book, rules), train, [{"id": "x", "text": "Katten sov."}])
    assert out[0]["id"] == "x" and "dyr.katt" in out[0]["codes"]
    assert "ukjent.kode" not in out[0]["scores"]


def test_classify_train_cli_contract(tmp_path, book, rules):
    from qualcode.cli import app

    yaml_path = tmp_path / "book.yaml"
    yaml_path.write_text(BOOK, encoding="utf-8")
    texts, labels = make(80, seed=9)
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"id": f"t{i}", "text": t, "codes": sorted(ls)}, ensure_ascii=False) + "\n"
                             for i, (t, ls) in enumerate(zip(texts, labels))), encoding="utf-8")
    new_texts, _ = make(12, seed=10)
    segs = tmp_path / "segs.jsonl"
    segs.write_text("".join(json.dumps({"id": f"s{i}", "text": t}, ensure_ascii=False) + "\n"
                            for i, t in enumerate(new_texts)), encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    result = CliRunner().invoke(app, ["classify", str(segs), "--train", str(train), "--codebook", str(yaml_path),
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    preds = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [p["id"] for p in preds] == [f"s{i}" for i in range(12)]  # one line per input line, in order
    book_ids = set(book.code_ids)
    for p in preds:
        assert set(p) == {"id", "codes", "scores"}
        assert set(p["scores"]) == book_ids and set(p["codes"]) <= book_ids
        assert all(0.0 <= v <= 1.0 for v in p["scores"].values())
    # the CLI is exactly classify_with_training on the same inputs
    direct = classify_with_training(_Coder(book, rules), [json.loads(x) for x in train.read_text().splitlines()],
                                    [json.loads(x) for x in segs.read_text().splitlines()])
    assert [p["codes"] for p in preds] == [d["codes"] for d in direct]
    assert "one document" not in result.output  # no "source": the rows are not known to share a document

    one = tmp_path / "one.jsonl"  # every row of one document: the base model's decisions stand, and it says why
    one.write_text("".join(json.dumps({"id": f"t{i}", "source": "plan-a.md", "text": t, "codes": sorted(ls)},
                                      ensure_ascii=False) + "\n" for i, (t, ls) in enumerate(zip(texts, labels))),
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(segs), "--train", str(one), "--codebook", str(yaml_path)])
    assert result.exit_code == 0, result.output
    assert "comes from one document" in " ".join(result.output.split())

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "uten koder"}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(segs), "--train", str(bad), "--codebook", str(yaml_path)])
    assert result.exit_code != 0
    assert "codes" in str(result.exception) or "codes" in result.output


def test_model_crosses_process_boundaries_as_plain_arrays(fitted, rules):
    """Workers get the model by pickle: it travels as the stored arrays (no code objects) and predicts the same."""
    import pickle

    payload = pickle.dumps(fitted)
    assert b"sklearn" not in payload and b"LogisticRegression" not in payload
    again = pickle.loads(payload)
    texts, _ = make(20, seed=12)
    assert np.allclose(again.predict_proba(texts, rules=rules), fitted.predict_proba(texts, rules=rules))
    assert again.version == fitted.version


def test_stored_model_loads_without_pickle(fitted):
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(fitted.to_bytes())) as npz:
        assert all(name.endswith(".npy") for name in npz.namelist())
        for name in npz.namelist():
            assert np.load(io.BytesIO(npz.read(name)), allow_pickle=False) is not None  # no object arrays


def test_labels_from_one_document_never_replace_the_prior(book, rules):
    texts, labels = make(120, seed=1)
    one = CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules, groups=["plan-a"] * len(texts))
    assert one.one_document
    assert all(f.weight == 0 for f in one.fits.values())  # folds inside one document would flatter a change
    two = CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules,
                                      groups=["plan-a" if i % 2 else "plan-b" for i in range(len(texts))])
    assert not two.one_document
    assert two.fits["dyr.hund"].weight > 0  # the same rows from two documents teach "valp"


ODD = ["Qwyx.", "Blimf.", "Drugg."]  # one word per document, sharing no run of letters with the others


def memorising_base(book, rules):
    """A base model on three documents, each with rows coded dyr.hund through a word that only
    that document uses: in sample the model knows the word, out of fold it cannot."""
    from qualcode.coding.model import BASE_GUARD

    texts, labels, groups = [], [], []
    for d in range(3):
        t, ls = make(60, seed=40 + d)
        t += [f"{FILLER[i % 6]} {FILLER[(i + 2) % 6]} {ODD[d]}" for i in range(8)]
        ls += [{"dyr.hund"}] * 8
        texts, labels, groups = texts + t, labels + ls, groups + [f"doc{d}"] * len(t)
    base = CodeModel(seed=0, guard=BASE_GUARD).fit_texts(texts, labels, book, rules=rules, groups=groups)
    return base, [t for t in texts if any(t.endswith(w) for w in ODD)]


def test_a_base_keeps_what_it_said_about_its_rows_out_of_fold(book, rules):
    base, zork = memorising_base(book, rules)
    j = base.code_ids.index("dyr.hund")
    assert base.fits["dyr.hund"].weight > 0 and len(base.held_keys) == len(base.held_proba) == 3 * 68
    data = analyse(zork, rules)
    in_sample = base.predict_analysis(data)[:, j]
    adapting = CodeModel(seed=0, base=base)
    unseen = adapting._unseen_prior(data)[:, j]
    seen = adapting.prior(data)[:, j]
    # its own rows are judged by what the base said about them unseen: far less sure than in sample
    assert in_sample.min() >= base.fits["dyr.hund"].threshold  # in sample it knows every odd row
    assert unseen.mean() < seen.mean() - 0.1
    # texts the base never learned from keep its live prediction
    fresh = analyse(["Bussen kom for sent. Qwyx.", "Valpen sov i kurven."], rules)
    assert np.allclose(adapting._unseen_prior(fresh), adapting.prior(fresh))
    # the table travels with the base's bytes; a model adapting it keeps none of its own
    loaded = CodeModel.from_bytes(base.to_bytes())
    assert list(loaded.held_keys) == list(base.held_keys) and np.allclose(loaded.held_proba, base.held_proba)
    texts, labels = make(60, seed=7)
    adapted = CodeModel(seed=0, base=base).fit_texts(texts, labels, book, rules=rules, groups=[i % 3 for i in range(60)])
    assert len(adapted.held_keys) == 0


def test_a_model_adapting_the_base_reads_no_character_ngrams(book, rules):
    """The base's character n-grams reach an adapting model through its prior; refitting them
    on every review made 5,000 reviews take minutes. The lemmas still teach it."""
    texts, labels = make(120, seed=1)
    base = CodeModel(seed=0).fit_texts(texts, labels, book, rules=rules, groups=[i % 3 for i in range(120)])
    more, more_labels = make(90, seed=11)
    adapted = CodeModel(seed=0, base=base).fit_texts(more, more_labels, book, rules=rules,
                                                     groups=[i % 3 for i in range(90)])
    assert base.features.chars and not adapted.features.chars
    assert "valp" in adapted.features.words
    assert adapted.design(analyse(["Valpen sov."], rules)).shape[1] == (
        len(adapted.features.words) + len(adapted.code_ids) + adapted.n_patterns)
    loaded = CodeModel.from_bytes(adapted.to_bytes())
    loaded.base = base
    probe = ["Valpen sov i kurven.", "Pæra var moden."]
    assert np.allclose(loaded.predict_proba(probe, rules=rules), adapted.predict_proba(probe, rules=rules))


@pytest.mark.parametrize("line, reason", [
    ('{"id": "s1", "text": ', "not valid JSON"),
    ('"just a string"', "not a JSON object"),
    ('{"id": "s1"}', r"missing field\(s\) text"),
])
def test_classify_names_the_bad_line_of_its_input(tmp_path, line, reason):
    """Every JSON Lines reader (reference sets, written examples, the CLI's inputs) reports a bad
    line the same way; the CLI says it in one plain line and exits non-zero."""
    from qualcode.cli import app

    segs = tmp_path / "segs.jsonl"
    segs.write_text('{"id": "s0", "text": "Hunden sover."}\n\n' + line + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(segs)])
    assert result.exit_code != 0
    assert re.search(rf"segs.jsonl, line 3: {reason}", str(result.exception) + result.output)
