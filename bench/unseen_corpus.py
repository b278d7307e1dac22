"""A reference set playing a corpus the model has never seen (`bench_review_gain.py`,
`bench_train_file.py`): the base model fitted on every other set, the shipped reference rows a
store would retrain with (never the corpus's own), and macro kappa on the corpus."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class UnseenCorpus:
    coder: object
    records: list[dict]  # the corpus
    others: list[dict]  # what the base model was fitted on
    shipped: list[dict]  # reference rows a store retrains with
    data: object  # the corpus analysed once
    base: object

    def kappa(self, model, rows: list[int] | None = None) -> float:
        """Macro kappa (the shared scorer's definitions) of ``model`` (None: the rules alone) on
        the corpus, or on its ``rows``."""
        from qualcode.coding.evaluation import score
        from qualcode.coding.validation import rule_predictions

        rows = list(range(len(self.records))) if rows is None else rows
        records, sub = [self.records[i] for i in rows], self.data.take(rows)
        if model is None:
            preds = rule_predictions(records, sub, self.coder)
        else:
            decided = model.decide(model.predict_analysis(sub))
            preds = [{"id": r["id"], "codes": c} for r, c in zip(records, decided)]
        return score(records, preds, self.coder.codebook.code_ids).summary["macro_kappa"]


def unseen_corpus(coder, name: str, reference: str | None = None) -> UnseenCorpus | None:
    """Reference set ``name`` as an unseen corpus (None when it is not there). ``reference``:
    comma-separated sets a store retrains with (default: the shipped ones; "all": every project set)."""
    from qualcode.coding.features import analyse
    from qualcode.coding.reference import load_reference, project_sets, shipped_sets
    from qualcode.coding.validation import fit_base

    sets = project_sets()
    if not any(s.name == name for s in sets):
        return None
    records = load_reference([s for s in sets if s.name == name])
    others = load_reference([s for s in sets if s.name != name])
    named = None if reference is None else set(set_names(reference, sets))
    pool = shipped_sets() if named is None else [s for s in sets if s.name in named]
    shipped = [r for r in load_reference(pool) if r["set"] != name]  # never the corpus itself
    base = fit_base(coder, analyse([r["text"] for r in others], coder.rules), others)
    base.version = "bench-base"
    return UnseenCorpus(coder, records, others, shipped, analyse([r["text"] for r in records], coder.rules), base)


def set_names(spec: str, sets) -> list[str]:
    """The reference sets a bench option names: comma-separated names, or "all" (every one of ``sets``)."""
    return [s.name for s in sets] if spec == "all" else spec.split(",")
