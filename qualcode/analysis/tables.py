"""The standard set of analysis tables with Norwegian titles and headers.

One list serves the HTML report, the Excel workbook (one sheet per table), the
CSV folder (one file per table) and the app, so they always show the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from qualcode.analysis.completeness import completeness, completeness_matrix
from qualcode.analysis.cooccurrence import cooccurrence, cooccurrence_pairs
from qualcode.analysis.frame import AnalysisData
from qualcode.analysis.frequencies import frequencies, totals
from qualcode.analysis.matrix import code_document_matrix
from qualcode.analysis.quotes import citations, quotes
from qualcode.analysis.years import corpus_by_year, municipality_changes, years_overview

# Column headers researchers see.
HEADERS = {
    "theme": "tema-ID", "theme_name": "tema", "code": "kode-ID", "code_name": "kode", "segments": "segmenter",
    "documents": "dokumenter", "share": "andel (%)", "confirmed": "bekreftet", "total": "sum",
    "document": "dokument", "document_id": "dokument-ID", "place": "kommune", "year": "år", "doc_type": "type",
    "size_class": "størrelse", "informant_role": "informantrolle", "file_name": "fil",
    "code_a": "kode A", "name_a": "navn A", "code_b": "kode B", "name_b": "navn B", "jaccard": "Jaccard",
    "element": "element-ID", "element_name": "element", "addressed": "omtalt", "segment_id": "segment-ID",
    "ref": "segment", "basis": "i grunnlaget (av å kode)", "codable": "segmenter å kode",
    "page": "side", "quote": "sitat", "citation": "kilde", "source": "kilde (koding)", "covered": "antall av 4",
    "from_year": "fra år", "to_year": "til år", "name": "navn", "from_segments": "segmenter før",
    "to_segments": "segmenter etter", "from_share": "andel før (%)", "to_share": "andel etter (%)",
    "change": "endring (%-poeng)", "status": "status", "coded_segments": "kodede segmenter",
    "in_scope": "segmenter i grunnlaget", "text": "tekst", "pages": "sider", "value": "verdi", "measure": "mål",
    # word tables (qualcode.search.frequencies)
    "rank": "nr", "word": "ord", "count": "antall", "per_1000": "per 1000 ord", "rest_per_1000": "resten per 1000 ord",
    "log_odds": "log-odds", "z": "z",
}
COUNTS_NOTE = " I parentes: segmenter med temaet av segmentene i grunnlaget for gruppen."
SOURCE_NAMES = {"reviewer": "bekreftet", "rule": "maskin (regel)", "model": "maskin (modell)",
                "model+rule": "maskin (regel og modell)"}


@dataclass
class Table:
    key: str      # file/sheet-safe id: "tema-per-kommune"
    title: str    # Norwegian heading: "Tema per kommune"
    frame: pd.DataFrame
    note: str = ""
    sheet: str = ""  # short Excel sheet name (≤ 31 characters); the title when empty

    def display(self) -> pd.DataFrame:
        """The frame with Norwegian headers and readable values (for report, Excel, CSV)."""
        out = self.frame.copy()
        if "source" in out.columns:
            out["source"] = out["source"].map(lambda s: SOURCE_NAMES.get(s, s))
        for column in ("addressed", "confirmed"):
            if column in out.columns and out[column].dtype == bool:
                out[column] = out[column].map({True: "ja", False: "nei"})
        return out.rename(columns=lambda c: HEADERS.get(c, c) if isinstance(c, str) else c)


def overview(data: AnalysisData) -> pd.DataFrame:
    seg = data.segments
    cod = data.codings
    rows = [
        (_label("documents"), seg["document_id"].nunique()),
        (_label("segments"), len(seg)),
        (_label("codable"), int(seg["codable"].sum())),
        (_label("reviewed"), int((seg["labelled"] & seg["codable"]).sum())),
        ("Segmenter i grunnlaget", int(seg["in_scope"].sum())),
        ("Bekreftede kodinger", int(cod["confirmed"].sum())),
    ]
    if data.include_machine:
        rows.append(("Maskinkodinger (ikke gjennomgått)", int((~cod["confirmed"]).sum())))
    return pd.DataFrame(rows, columns=["measure", "value"])


def _label(key: str) -> str:
    """The count's name as the app and `qualcode status` say it (qualcode.review.counts)."""
    from qualcode.review.counts import LABELS

    return LABELS[key][0].capitalize()


def documents_table(data: AnalysisData) -> pd.DataFrame:
    seg = data.segments
    docs = data.documents.drop(columns=["is_transcript"])
    per = seg.groupby("document_id").agg(in_scope=("in_scope", "sum"), segments=("segment_id", "nunique"))
    coded = data.codings.groupby("document_id")["segment_id"].nunique().rename("coded_segments")
    out = docs.join(per, on="document_id").join(coded, on="document_id")
    out[["in_scope", "coded_segments"]] = out[["in_scope", "coded_segments"]].fillna(0).astype(int)
    return out[["document_id", "document", "file_name", "place", "year", "doc_type", "size_class", "informant_role",
                "segments", "in_scope", "coded_segments"]]


def codings_table(data: AnalysisData) -> pd.DataFrame:
    frame = data.codings
    out = frame[["segment_id", "ref", "document", "place", "year", "doc_type", "theme_name", "code", "code_name",
                 "source", "confirmed", "text"]].copy()
    out.insert(2, "citation", citations(frame))
    return out


def report_tables(data: AnalysisData, skip: frozenset[str] = frozenset()) -> list[Table]:
    """Every table of the report, in report order (leaving out the keys in ``skip``, e.g. "kodinger",
    which the HTML report does not show and which costs most on a large store)."""
    basis = ("Andel = segmenter med koden / segmenter i grunnlaget (ferdig gjennomgåtte"
             + (", og ellers alle segmenter som kan kodes" if data.include_machine else "") + ").")
    cooc = cooccurrence(data)
    cooc_named = cooc.rename(index=_names(data), columns=_names(data)).reset_index()
    tables = [
        Table("oversikt", "Oversikt", overview(data)),
        Table("dokumenter", "Dokumenter", documents_table(data)),
        Table("tema", "Tema", totals(data, "theme"), basis),
        Table("koder", "Koder", totals(data, "code"), basis),
        Table("tema-per-kommune", "Tema per kommune (andel, med segmenter)",
              frequencies(data, "place", "theme", "share_n"), basis + COUNTS_NOTE, sheet="Tema per kommune"),
        Table("koder-per-kommune", "Koder per kommune (segmenter)", frequencies(data, "place", "code", "segments"),
              sheet="Koder per kommune"),
        Table("tema-per-ar", "Tema per år (segmenter)", frequencies(data, "year", "theme", "segments"),
              sheet="Tema per år"),
        Table("tema-per-type", "Tema per dokumenttype (segmenter)", frequencies(data, "doc_type", "theme", "segments"),
              sheet="Tema per type"),
        Table("tema-per-storrelse", "Tema per kommunestørrelse (segmenter)",
              frequencies(data, "size_class", "theme", "segments"), sheet="Tema per størrelse"),
        Table("kode-dokument", "Kode × dokument (segmenter)", code_document_matrix(data, all_codes=False),
              sheet="Kode × dokument"),
        Table("samforekomst", "Samforekomst av koder (segmenter med begge)", cooc_named,
              "Diagonalen er antall segmenter med koden.", sheet="Samforekomst"),
        Table("samforekomst-par", "Kodepar som forekommer sammen", cooccurrence_pairs(data), sheet="Kodepar"),
        Table("fullstendighet", "§ 15-1: hva planene omtaler", completeness_matrix(data),
              "Siden der elementet er vist (se belegg). «ikke funnet» = ikke i de segmentene som er i grunnlaget; "
              "«ikke gjennomgått» = ingen av planens segmenter er gjennomgått, så ingenting kan sies ennå.", sheet="§ 15-1"),
        Table("fullstendighet-belegg", "§ 15-1: belegg", completeness(data), sheet="§ 15-1 belegg"),
        Table("ar-oversikt", "År: grunnlag", years_overview(data), sheet="År grunnlag"),
        Table("tema-per-ar-andel", "Tema per år (andel, med segmenter)", corpus_by_year(data, "theme", with_counts=True),
              basis + COUNTS_NOTE, sheet="Tema per år andel"),
        Table("endring-per-kommune", "Endring per kommune", municipality_changes(data, "code")),
        Table("sitater", "Sitater", quotes(data)),
    ]
    if "kodinger" not in skip:
        tables.append(Table("kodinger", "Alle kodinger", codings_table(data), sheet="Kodinger"))
    from qualcode.search.frequencies import word_tables  # search: word frequencies and distinguishing words

    tables += word_tables(data)
    return tables


def _names(data: AnalysisData) -> dict[str, str]:
    return dict(zip(data.codes["code"], data.codes["code_name"]))

