"""Kodebok: browse codes; add, rename, move, merge, delete or edit a code; see and undo changes.

Every change goes through ``qualcode.review.codebook_changes``: the store's own YAML
file (comments kept) and a new codebook version, codings moved with their code, the
audit log. Afterwards machine suggestions on the segments already stored are re-coded
in the background (``qualcode.review.recode``); reviewer decisions are never touched.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from qualcode.app import proposals_panel  # search: pattern proposals saved from Søk
from qualcode.app.escape import md as md_escape
from qualcode.app.widgets import code_label, flash, show_flash
from qualcode.formats import integer
from qualcode.coding.codebook import DEFAULT_PATH, CodebookError
from qualcode.review.progress import code_counts

ACTIONS = {"rename": "Gi nytt navn", "move": "Flytt til annet tema", "merge": "Slå sammen med en annen kode",
           "delete": "Slett"}
ACTION_NAMES = {"add": "ny kode", "rename": "nytt navn", "move": "flyttet", "merge": "slått sammen",
                "delete": "slettet", "edit": "redigert"}


@st.cache_resource(show_spinner=False)
def recoder_for(db: str):
    """The store's one background re-coder, shared by every browser session."""
    from qualcode.review.recode import Recoder

    return Recoder()


def render(ctx) -> None:
    st.title("Kodebok")
    show_flash()
    book = ctx.codebook
    own = ctx.codebook_path != DEFAULT_PATH
    st.caption(f"{book.name} · {book.version_label} · versjon {book.version} · "
               + (f"databasens egen kodebok ({ctx.codebook_path.name})" if own else "levert kodebok (endringer "
                  f"lagres i {ctx.own_codebook_path.name} ved siden av databasen)"))
    _recode_status(ctx)
    with ctx.factory() as session:
        counts = code_counts(session, book).set_index("kode")
    browse, new, change, edit, history = st.tabs(["Koder", "Ny kode", "Endre eller slett", "Rediger som YAML",
                                                 "Historikk"])
    with browse:
        _browse(book, counts)
    with new:
        _new_code(ctx, book)
    with change:
        _change(ctx, book)
    with edit:
        _edit(ctx, book)
    with history:
        _history(ctx)


# -- applying a change ---------------------------------------------------------------------------
def _apply(ctx, action: str, done: str, **kw) -> bool:
    """Run one codebook change; on success start re-coding and reload the page with a message."""
    from qualcode.review.codebook_changes import change_codebook

    if not ctx.reviewer:
        st.warning("Skriv navnet ditt i feltet til venstre først: endringer i kodeboken lagres med navn.")
        return False
    try:
        result = change_codebook(ctx.factory, ctx.codebook_path, ctx.own_codebook_path, ctx.reviewer, action, **kw)
    except CodebookError as err:
        _show_error(err)
        return False
    moved = result.copied + result.folded
    extra = []
    if moved:
        extra.append(f"{integer(moved)} kodinger fulgte med")
    if result.folded:
        extra.append(f"{integer(result.folded)} slått sammen der samme person eller regel hadde begge")
    if result.deactivated:
        extra.append(f"{integer(result.deactivated)} kodinger skjult (kan angres i Historikk)")
    flash("success", f"{done} Ny kodebokversjon {result.book.version}" + (f" ({'; '.join(extra)})." if extra else ".")
          + " Forslagene på segmentene oppdateres i bakgrunnen.")
    recoder_for(ctx.db).start(ctx.factory, ctx.own_codebook_path)
    st.rerun()
    return True


def _show_error(err: Exception) -> None:
    lines = [line.split(": ", 1)[1] if line.startswith(("<", "/")) and ": " in line else line
             for line in str(err).splitlines()]
    st.error("Endringen ble ikke lagret:\n\n" + "\n".join(f"- `{line}`" for line in lines))


def _recode_status(ctx) -> None:
    recoder = recoder_for(ctx.db)
    if not recoder.running and not recoder.state.total and not recoder.state.error:
        return

    @st.fragment(run_every=1.0 if recoder.running else None)
    def status() -> None:
        state = recoder.state
        if state.error:
            st.error(f"Oppdatering av forslagene stoppet: {state.error}. Kodeboken er lagret; prøv igjen med "
                     "`qualcode codebook recode`.")
        elif recoder.running:
            share = state.done / state.total if state.total else 0.0
            st.progress(share, text=f"Oppdaterer maskinforslag etter endringen: {integer(state.done)} av "
                                    f"{integer(state.total)} segmenter (gjennomgåtte beslutninger røres ikke)")
        else:
            st.caption(f"✔ Maskinforslagene er oppdatert for kodebokversjon {state.version} "
                       f"({integer(state.total)} segmenter).")

    status()


# -- browsing ------------------------------------------------------------------------------------
def _browse(book, counts) -> None:
    for theme in book.themes:
        with st.expander(f"**{theme.name}** ({len(theme.codes)} koder)"):
            if theme.description:
                st.caption(theme.description)
            for code in theme.codes:
                n = counts.loc[code.id] if code.id in counts.index else None
                usage = (f"forslag i {integer(n['forslag'])} segmenter · bekreftet i {integer(n['bekreftet'])} · "
                         f"avvist i {integer(n['avvist'])}" if n is not None else "")
                depth = "↳ " * (len(code.id.split(".")) - 2)
                st.markdown(f"##### {depth}{md_escape(code.name)}  \n`{code.id}` · {usage}")
                st.write(code.definition)
                if code.include:
                    st.markdown(f"*Ta med:* {md_escape(code.include)}")
                if code.exclude:
                    st.markdown(f"*Ikke ta med:* {md_escape(code.exclude)}")
                if code.examples:
                    st.markdown("*Eksempler:*\n" + "\n".join(f"- {md_escape(ex)}" for ex in code.examples))


# -- new code ------------------------------------------------------------------------------------
NEW_THEME = "__nytt__"


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _new_code(ctx, book) -> None:
    themes = {t.id: t.name for t in book.themes}
    st.caption("En ny kode trenger id, navn, definisjon og minst ett mønster (ord eller uttrykk som tyder på koden; "
               "`*` i starten eller slutten av et ord betyr hvilken som helst ending). Punktum i id-en lager "
               "underkoder, f.eks. `kapasitet.rekruttering` under temaet Barrierer.")
    with st.form("cb_new_form"):
        c1, c2 = st.columns(2)
        theme = c1.selectbox("Tema", [*themes, NEW_THEME], key="cb_new_theme",
                             format_func=lambda t: "Nytt tema …" if t == NEW_THEME else f"{themes[t]} ({t})")
        suffix = c2.text_input("Kode-id etter temaet", key="cb_new_id", placeholder="kapasitet.rekruttering",
                               help="Små bokstaver a–z og _, punktum for underkoder.")
        t1, t2 = st.columns(2)
        theme_id = t1.text_input("Nytt tema: id (bare når du velger «Nytt tema …»)", key="cb_new_theme_id",
                                 placeholder="f.eks. tillit")
        theme_name = t2.text_input("Nytt tema: navn", key="cb_new_theme_name", placeholder="f.eks. Tillit")
        name = st.text_input("Navn", key="cb_new_name", placeholder="Rekruttering")
        definition = st.text_area("Definisjon", key="cb_new_definition", height=90)
        i1, i2 = st.columns(2)
        include = i1.text_area("Ta med", key="cb_new_include", height=70)
        exclude = i2.text_area("Ikke ta med", key="cb_new_exclude", height=70)
        p1, p2 = st.columns(2)
        patterns = p1.text_area("Mønstre (ett per linje)", key="cb_new_patterns", height=110,
                                placeholder="rekrutter*\nledige stillinger")
        examples = p2.text_area("Eksempler (ett per linje)", key="cb_new_examples", height=110)
        submitted = st.form_submit_button("Legg til kode", type="primary", key="cb_new_go")
    if not submitted:
        return
    tid = theme_id.strip().lower() if theme == NEW_THEME else theme
    code = {"id": f"{tid}.{suffix.strip().lower().strip('.')}", "name": name.strip(), "definition": definition.strip(),
            "include": include.strip(), "exclude": exclude.strip(), "patterns": _lines(patterns),
            "examples": _lines(examples)}
    missing = [label for label, value in (("id", suffix.strip()), ("navn", code["name"]),
                                          ("definisjon", code["definition"]), ("mønstre", code["patterns"]))
               if not value]
    if theme == NEW_THEME and not (tid and theme_name.strip()):
        missing.append("id og navn på nytt tema")
    if missing:
        st.error("Fyll ut: " + ", ".join(missing) + ".")
        return
    _apply(ctx, "add", f"La til koden «{code['name']}» ({code['id']}).", code=code,
           theme_name=theme_name.strip() or None)


# -- rename, move, merge, delete -----------------------------------------------------------------
def _impact_line(ctx, code_ids: list[str]) -> tuple[str, int]:
    from qualcode.review.codebook_changes import impact

    with ctx.factory() as session:
        found = impact(session, code_ids)
    return (f"{integer(found.suggestions)} maskinforslag, {integer(found.decisions)} gjennomgangsbeslutninger og "
            f"{integer(found.adjudications)} avgjørelser på {integer(found.segments)} segmenter"), found.total


def _change(ctx, book) -> None:
    if st.session_state.get("cb_target") not in book.code_ids:
        st.session_state.pop("cb_target", None)
    code_id = st.selectbox("Kode", book.code_ids, key="cb_target", format_func=lambda c: code_label(book, c))
    code = book.code(code_id)
    line, total = _impact_line(ctx, [code_id])
    st.caption(f"Koden har {line}.")
    action = st.radio("Hva vil du gjøre?", list(ACTIONS), format_func=ACTIONS.get, horizontal=True, key="cb_action")
    if action == "rename":
        name = st.text_input("Nytt navn", value=code.name, key=f"cb_rename_name_{code_id}")
        new_id = st.text_input("Ny id", value=code_id, key=f"cb_rename_id_{code_id}",
                               help="Endre bare hvis id-en må endres. Alle kodinger følger med.")
        if st.button("Lagre nytt navn", type="primary", key="cb_rename_go"):
            _apply(ctx, "rename", f"«{code.name}» heter nå «{name.strip()}».", code_id=code_id,
                   new_id=new_id.strip() or code_id, name=name.strip() if name.strip() != code.name else None)
    elif action == "move":
        themes = {t.id: t.name for t in book.themes if t.id != code_id.split(".")[0]}
        theme = st.selectbox("Til tema", list(themes), key="cb_move_theme", format_func=lambda t: themes[t])
        if theme:
            st.caption(f"Ny id blir `{'.'.join([theme, *code_id.split('.')[1:]])}`; alle kodinger følger med.")
        if st.button("Flytt kode", type="primary", key="cb_move_go", disabled=not theme):
            _apply(ctx, "move", f"«{code.name}» er flyttet til {themes[theme]}.", code_id=code_id, theme_id=theme)
    elif action == "merge":
        others = [c for c in book.code_ids if c != code_id]
        target = st.selectbox("Slå sammen inn i", others, key="cb_merge_target",
                              format_func=lambda c: code_label(book, c))
        st.caption(f"«{code.name}» forsvinner; kodingene flyttes til «{book.code(target).name}». Der samme "
                   "gjennomgåer har tatt stilling til begge kodene, blir det én beslutning (gjelder hvis en av dem "
                   "gjaldt). Mønstrene og eksemplene tas med.")
        if st.button("Slå sammen", type="primary", key="cb_merge_go"):
            _apply(ctx, "merge", f"«{code.name}» er slått sammen med «{book.code(target).name}».",
                   source_id=code_id, target_id=target)
    else:
        st.warning(f"Sletter du «{code.name}», skjules {line}. Ingenting slettes fra databasen, og du kan angre "
                   "under Historikk.")
        sure = st.checkbox(f"Ja, slett «{code.name}»" + (f" og skjul {integer(total)} kodinger" if total else ""),
                           key=f"cb_delete_confirm_{code_id}")
        if st.button("Slett kode", type="primary", key="cb_delete_go", disabled=not sure):
            _apply(ctx, "delete", f"«{code.name}» er slettet.", code_id=code_id)


# -- edit as YAML ------------------------------------------------------------------------------
def _edit(ctx, book) -> None:
    from qualcode.review.codebook_edit import code_yaml

    code_id = st.selectbox("Kode", book.code_ids, format_func=lambda c: code_label(book, c), key="cb_code")
    proposals_panel.render(ctx, code_id)  # search: pattern proposals saved from Søk
    key = f"cb_yaml_{book.version}_{code_id}"
    if key not in st.session_state:
        st.session_state[key] = code_yaml(book, code_id)
    st.text_area("Definisjon, mønstre og eksempler (YAML)", key=key, height=420,
                 help="Formatet er forklart øverst i codebooks/barnevern.yaml. Kommentarer (#) beholdes. "
                      "Id-en kan ikke endres her: bruk «Endre eller slett».")
    check, save = st.columns(2)
    checked = check.button("Kontroller", key="cb_check")
    saved = save.button("Lagre som ny versjon", type="primary", key="cb_save", disabled=not ctx.reviewer)
    if not ctx.reviewer:
        st.caption("Skriv navnet ditt i feltet til venstre for å lagre endringer.")
    if not (checked or saved):
        return
    from qualcode.review.codebook_changes import plan_change
    from qualcode.review.codebook_edit import book_text

    try:
        plan = plan_change(book_text(book), "edit", source=str(ctx.own_codebook_path), code_id=code_id,
                           snippet=st.session_state[key])
    except CodebookError as err:
        _show_error(err)
        return
    if plan.text == book_text(book):
        st.info("Ingen endringer å lagre.")
        return
    if checked:
        st.success("Endringen er gyldig. Trykk «Lagre som ny versjon» for å ta den i bruk.")
        return
    _apply(ctx, "edit", f"Lagret endringen av «{book.code(code_id).name}» i {ctx.own_codebook_path.name}; "
                        "den leverte kodeboken er uendret.", code_id=code_id, snippet=st.session_state[key])


# -- history and undo ----------------------------------------------------------------------------
def _history(ctx) -> None:
    from sqlalchemy import select

    from qualcode.store import schema

    with ctx.factory() as session:
        rows = session.scalars(select(schema.CodebookChange).order_by(schema.CodebookChange.id.desc())
                               .limit(50)).all()
    if not rows:
        st.caption("Ingen endringer er gjort i kodeboken fra appen eller kommandolinjen ennå.")
        return
    table = pd.DataFrame([{
        "når": r.created_at.strftime("%d.%m.%Y %H:%M"), "hvem": r.actor, "endring": ACTION_NAMES.get(r.action, r.action),
        "koder": _codes_of(r.detail), "versjon": r.after_version,
        "status": f"angret av {r.undone_by}" if r.undone_at else "gjeldende" if r is _newest_open(rows) else ""}
        for r in rows])
    st.dataframe(table, hide_index=True, width="stretch")
    newest = _newest_open(rows)
    if newest is None:
        return
    st.caption(f"Angre tar tilbake den siste endringen ({ACTION_NAMES.get(newest.action, newest.action)}: "
               f"{_codes_of(newest.detail)}), med kodingene den flyttet eller skjulte.")
    if st.button("Angre siste endring", key="cb_undo", disabled=not ctx.reviewer):
        from qualcode.review.codebook_changes import undo_last_change

        try:
            undo_last_change(ctx.factory, ctx.own_codebook_path, ctx.reviewer)
        except CodebookError as err:
            _show_error(err)
            return
        flash("success", "Endringen er angret. Forslagene på segmentene oppdateres i bakgrunnen.")
        recoder_for(ctx.db).start(ctx.factory, ctx.own_codebook_path)
        st.rerun()


def _newest_open(rows):
    return next((r for r in rows if r.undone_at is None), None)


def _codes_of(detail) -> str:
    if not isinstance(detail, dict):
        return ""
    if "from" in detail:
        return f"{detail['from']} → {detail['to']}"
    if detail.get("to") and detail.get("to") != detail.get("code"):
        return f"{detail['code']} → {detail['to']}"
    return str(detail.get("code", ""))
