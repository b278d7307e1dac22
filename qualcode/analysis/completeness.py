"""Does each prevention plan cover what barnevernsloven § 15-1 asks of it?

A plan should set goals and strategies (plan.mal), say who is responsible
(plan.ansvar), how the work is organised (plan.organisering) and how services
work together (plan.samarbeid). For every plan and element this names the
segment that shows it (id, page, a short quote), so a "yes" can be checked.
"""
from __future__ import annotations

import pandas as pd

from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.quotes import citations, is_interview, pages, shorten

ELEMENTS = ("plan.mal", "plan.ansvar", "plan.organisering", "plan.samarbeid")
PLAN_TYPES = {"plan"}
COLUMNS = ["document_id", "document", "place", "year", "element", "element_name", "addressed", "status", "segment_id",
           "ref", "page", "quote", "citation", "source", "in_scope", "codable"]
# an element is "ikke funnet" only where someone (or, with machine codings, the machine) looked
FOUND, NOT_FOUND, NOT_REVIEWED = "omtalt", "ikke funnet", "ikke gjennomgått"


def plan_documents(data: AnalysisData) -> pd.DataFrame:
    """Documents that are plans: type "plan", or of unknown type and not an interview."""
    docs = data.documents
    is_plan = pd.Series([(t in PLAN_TYPES) or (t == "ukjent" and not is_interview(t, tr))
                         for t, tr in zip(docs["doc_type"], docs["is_transcript"])], index=docs.index, dtype=bool)
    return docs[is_plan].reset_index(drop=True)


def completeness(data: AnalysisData, elements: tuple[str, ...] = ELEMENTS, quote_chars: int = 160) -> pd.DataFrame:
    """One row per (plan, element): addressed or not, with one evidence segment.

    ``status`` is "omtalt", "ikke funnet" (among the plan's segments in scope) or
    "ikke gjennomgått" (none of the plan's segments is in scope yet, so nothing can be
    said); ``in_scope`` of ``codable`` tells how much of the plan the answer rests on.
    Evidence is a confirmed segment before a machine one, a segment about this element
    before one that names several, and then the earliest in the document.
    """
    if elements == ELEMENTS and quote_chars == 160:  # the table, the matrix and the chart share one answer
        return data.memo("completeness", lambda: _completeness(data, elements, quote_chars))
    return _completeness(data, elements, quote_chars)


def _completeness(data: AnalysisData, elements: tuple[str, ...], quote_chars: int) -> pd.DataFrame:
    docs = plan_documents(data)
    names = dict(zip(data.codes["code"], data.codes["code_name"]))
    hits = data.codings[data.codings["code"].isin(elements) & data.codings["document_id"].isin(docs["document_id"])]
    # prefer a segment about this element over a summary naming all four, then the earliest
    spread = hits.groupby("segment_id")["code"].nunique()
    hits = hits.assign(_unconfirmed=~hits["confirmed"], _spread=hits["segment_id"].map(spread)) \
        .sort_values(["_unconfirmed", "_spread", "seq"])
    first = hits.drop_duplicates(["document_id", "code"])
    first = first.assign(cite=citations(first) if len(first) else pd.Series(dtype=object),
                         page_label=[pages(a, b) for a, b in zip(first["page_start"], first["page_end"])])
    found = {(d, c): r for d, c, r in zip(first["document_id"], first["code"],
                                          first[["segment_id", "ref", "page_label", "text", "cite", "source"]]
                                          .itertuples(index=False))}
    seg = data.segments
    scope = seg[seg["in_scope"]].groupby("document_id")["segment_id"].nunique()
    codable = seg[seg["codable"]].groupby("document_id")["segment_id"].nunique()
    rows = []
    for doc in docs.itertuples():
        looked = int(scope.get(doc.document_id, 0))
        for element in elements:
            ev = found.get((doc.document_id, element))
            addressed = ev is not None
            row = {"document_id": doc.document_id, "document": doc.document, "place": doc.place, "year": doc.year,
                   "element": element, "element_name": names.get(element, element), "addressed": addressed,
                   "status": FOUND if addressed else NOT_FOUND if looked else NOT_REVIEWED,
                   "segment_id": None, "ref": "", "page": "", "quote": "", "citation": "", "source": "",
                   "in_scope": looked, "codable": int(codable.get(doc.document_id, 0))}
            if addressed:
                row.update(segment_id=int(ev.segment_id), ref=ev.ref, page=ev.page_label,
                           quote=shorten(ev.text, quote_chars), citation=ev.cite, source=ev.source)
            rows.append(row)
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["segment_id"] = out["segment_id"].astype("Int64")
    return out


def completeness_matrix(data: AnalysisData, elements: tuple[str, ...] = ELEMENTS) -> pd.DataFrame:
    """Plans × elements: "s. 3" (or "ja") where addressed, else "ikke funnet" or "ikke gjennomgått";
    how many of the elements, and the segments the answer rests on ("12 av 40")."""
    long = completeness(data, elements)
    names = dict(zip(long["element"], long["element_name"]))
    if long.empty:
        return pd.DataFrame(columns=["document", "place", "year", *[names.get(e, e) for e in elements], "covered",
                                     "basis"])
    long = long.assign(cell=[("ja" if not p else p) + ("" if s in ("", "reviewer") else " (maskin)")
                             if a else st for a, p, s, st in
                             zip(long["addressed"], long["page"], long["source"], long["status"])])
    wide = long.pivot(index="document_id", columns="element", values="cell").reindex(columns=list(elements))
    wide.columns = [names.get(e, e) for e in elements]
    covered = long.groupby("document_id")["addressed"].sum().astype(int).rename("covered")
    head = long.drop_duplicates("document_id").set_index("document_id")
    basis = pd.Series([f"{a} av {b}" for a, b in zip(head["in_scope"], head["codable"])], index=head.index,
                      name="basis")
    return head[["document", "place", "year"]].join(wide).join(covered).join(basis).reset_index(drop=True)
