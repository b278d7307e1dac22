"""What extraction knows about a segment, shown beside it: the table around a table row, OCR marks."""
from __future__ import annotations

import streamlit as st

from qualcode.app.widgets import context_box
from qualcode.review.segment_view import ocr_mark, table_around

LOW_CONFIDENCE = 80.0  # below this mean word confidence, the reviewer is asked to check the original


def show_extraction_context(ctx, segment_id: int) -> None:
    """Under the segment: an OCR note when its page was scanned; the whole table, row marked, for a table row."""
    with ctx.factory() as session:
        mark = ocr_mark(session, segment_id)
        table = table_around(session, segment_id)
    if mark is not None:
        pages = ", ".join(str(p) for p in mark.pages)
        note = (f"Skannet side (s. {pages}): teksten er lest med OCR ({mark.engine}), "
                f"sikkerhet {mark.confidence:.0f} %.")
        if mark.confidence < LOW_CONFIDENCE:
            st.warning(note + " Lav sikkerhet – sammenlign med originalen før du koder.")
        else:
            st.caption(note)
    if table is None:
        return
    context_box(table.labelled, "Raden med kolonneoverskrifter")
    with st.expander(f"Hele tabellen (s. {table.page_start}" + (f"–{table.page_end}" if table.page_end != table.page_start
                                                              else "") + ")", expanded=True):
        st.dataframe(_frame(table), hide_index=True, width="stretch")


def _frame(table):
    """The table as a DataFrame (unique column names), the segment's row highlighted."""
    import pandas as pd

    width = max([len(table.headers)] + [len(r) for r in table.rows])
    names, seen = [], set()
    for k in range(width):
        name = (table.headers[k] if k < len(table.headers) else "") or f"Kolonne {k + 1}"
        while name in seen:
            name += " "
        seen.add(name)
        names.append(name)
    frame = pd.DataFrame([list(r) + [""] * (width - len(r)) for r in table.rows], columns=names)
    if table.row is None:
        return frame
    return frame.style.apply(lambda row: ["background-color: #fff3b0" if row.name == table.row else ""] * len(row),
                             axis=1)


def show_ocr_documents(ctx) -> None:
    """On Oversikt: which documents have pages read with OCR, and how sure Tesseract was."""
    from sqlalchemy import func, select

    from qualcode.store import schema

    D, O = schema.Document, schema.OcrPage
    with ctx.factory() as session:
        rows = session.execute(
            select(D.municipality, D.file_name, func.count(O.id), func.avg(O.confidence), func.min(O.confidence))
            .join(O, O.document_id == D.id).group_by(D.id).order_by(func.min(O.confidence))).all()
    if not rows:
        return
    import pandas as pd

    st.caption("Skannede dokumenter: sidene er lest med OCR. Lav sikkerhet betyr at teksten bør sjekkes mot "
               "originalen.")
    frame = pd.DataFrame([(m or f, f, n, round(avg), round(low)) for m, f, n, avg, low in rows],
                         columns=["kommune", "fil", "sider med OCR", "sikkerhet (snitt) %", "laveste side %"])
    st.dataframe(frame, hide_index=True, width="stretch")
