"""Kodebok: browse codes by theme (definitions, examples, how often they are used) and edit a code as YAML."""
from __future__ import annotations

import streamlit as st

from qualcode.app import proposals_panel  # search: pattern proposals saved from Søk
from qualcode.app.widgets import code_label
from qualcode.coding.codebook import DEFAULT_PATH, CodebookError
from qualcode.review.codebook_edit import code_yaml, replace_code, save_codebook
from qualcode.review.progress import code_counts


def render(ctx) -> None:
    st.title("Kodebok")
    book = ctx.codebook
    own = ctx.codebook_path != DEFAULT_PATH
    st.caption(f"{book.name} · {book.version_label} · versjon {book.version} · "
               + (f"databasens egen kodebok ({ctx.codebook_path.name})" if own else "levert kodebok"))
    with ctx.factory() as session:
        counts = code_counts(session, book).set_index("kode")
    browse, edit = st.tabs(["Koder", "Rediger en kode"])
    with browse:
        _browse(book, counts)
    with edit:
        _edit(ctx, book)


def _browse(book, counts) -> None:
    for theme in book.themes:
        with st.expander(f"**{theme.name}** ({len(theme.codes)} koder)"):
            if theme.description:
                st.caption(theme.description)
            for code in theme.codes:
                n = counts.loc[code.id] if code.id in counts.index else None
                usage = (f"forslag i {n['forslag']} segmenter · bekreftet i {n['bekreftet']} · avvist i {n['avvist']}"
                         if n is not None else "")
                st.markdown(f"##### {code.name}  \n`{code.id}` · {usage}")
                st.write(code.definition)
                if code.include:
                    st.markdown(f"*Ta med:* {code.include}")
                if code.exclude:
                    st.markdown(f"*Ikke ta med:* {code.exclude}")
                if code.examples:
                    st.markdown("*Eksempler:*\n" + "\n".join(f"- {ex}" for ex in code.examples))


def _edit(ctx, book) -> None:
    code_id = st.selectbox("Kode", book.code_ids, format_func=lambda c: code_label(book, c), key="cb_code")
    proposals_panel.render(ctx, code_id)  # search: pattern proposals saved from Søk
    key = f"cb_yaml_{book.version}_{code_id}"
    if key not in st.session_state:
        st.session_state[key] = code_yaml(book, code_id)
    st.text_area("Definisjon, mønstre og eksempler (YAML)", key=key, height=420,
                 help="Formatet er forklart øverst i codebooks/barnevern.yaml.")
    check, save = st.columns(2)
    checked = check.button("Kontroller", key="cb_check")
    saved = save.button("Lagre som ny versjon", type="primary", key="cb_save", disabled=not ctx.reviewer)
    if not ctx.reviewer:
        st.caption("Skriv navnet ditt i feltet til venstre for å lagre endringer.")
    if not (checked or saved):
        return
    try:
        new_book, text = replace_code(book, code_id, st.session_state[key], source=str(ctx.own_codebook_path))
    except CodebookError as err:
        st.error("Kodeboken er ikke gyldig:\n\n" + "\n".join(f"- `{line}`" for line in str(err).splitlines()))
        return
    if new_book.version == book.version:
        st.info("Ingen endringer å lagre.")
        return
    if checked:
        st.success("Endringen er gyldig. Trykk «Lagre som ny versjon» for å ta den i bruk.")
        return
    saved_book = save_codebook(ctx.factory, text, ctx.own_codebook_path, ctx.reviewer, code=code_id,
                               previous=book.version)
    st.success(f"Lagret kodebok versjon {saved_book.version} i {ctx.own_codebook_path}. "
               "Nye importer bruker den; den leverte kodeboken er uendret.")
