"""Gjennomgang: one segment at a time; accept, reject or add codes, write a memo, mark done.

Every button writes at once through ``qualcode.review.actions`` (one transaction,
audited). Buttons carry the ``review_version`` the reviewer saw when the page was
drawn; if someone else changed the segment since, the write is refused and the
fresh state is shown instead.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

import streamlit as st
from sqlalchemy.exc import OperationalError

from qualcode.app import queue_state
from qualcode.app.claims import claims_for
from qualcode.app.extraction_context import show_extraction_context
from qualcode.app.escape import md as _md
from qualcode.app.ranking import ranking_for
from qualcode.app.retrain import retrainer_for, trainer_available
from qualcode.app.highlight import code_colours
from qualcode.app.widgets import code_label, context_box, flash, show_flash, text_box
from qualcode.formats import integer, number, percent
from qualcode.review import actions
from qualcode.review.counts import store_counts
from qualcode.review.queue import BANDS, STATUSES, Filters
from qualcode.review.segment_view import SegmentView, load_segment, segment_ref_of

REVIEWED_KEY = "_reviewed_since_training"
SEEN_TRAINING_KEY = "_seen_training"
SEEN_KEY = "_seen_version"  # (segment id, review_version) as last drawn
CONTEXT_CHARS = 260  # neighbouring paragraphs are shortened so the segment and its suggestions fit one screen
KEYS_SCRIPT = "<script>" + Path(__file__).with_name("review_keys.js").read_text(encoding="utf-8") + "</script>"
# (key, what it does): the keyboard script (review_keys.js) and the legend on the page
SHORTCUTS = [("↑ ↓", "velg forslag"), ("G", "godta"), ("A", "avvis"), ("Enter", "ferdig – neste"),
             ("→", "hopp over"), ("←", "forrige"), ("U", "angre"), ("L", "legg til kode")]
STYLE = """<style>
h1 {font-size:1.9rem !important; padding:0 0 0.2rem !important}
.st-key-review_page h3 {padding:0.1rem 0 0.2rem; font-size:1.35rem}
.st-key-review_page [data-testid="stVerticalBlock"] {gap:0.45rem}
[class*="st-key-sug_"] {border-radius:6px; padding:2px 4px; border:1px solid transparent}
[class*="st-key-sug_"].qc-focus {border-color:#1c7ed6; background:#f1f7ff}
[class*="st-key-sug_"] button {min-height:1.9rem; padding:0.05rem 0.4rem}
[class*="st-key-sug_"] button p {font-size:0.85rem; white-space:nowrap}
.qc-sug {line-height:1.3; font-size:0.92rem}
.qc-swatch {display:inline-block; width:0.8rem; height:0.8rem; border-radius:3px; border:2px solid;
            margin-right:0.35rem; vertical-align:-1px}
.qc-badge {font-size:0.75rem; border-radius:8px; padding:0 0.4rem; margin-left:0.25rem; white-space:nowrap}
.qc-yes {background:#d3f9d8; color:#2b8a3e} .qc-no {background:#ffe3e3; color:#c92a2a}
.qc-pending {background:#e7f5ff; color:#1864ab} .qc-weak {background:#f1f3f5; color:#868e96}
.qc-meter {display:inline-block; width:40px; height:6px; background:#e9ecef; border-radius:3px; margin-right:0.4rem;
           vertical-align:middle; overflow:hidden} .qc-meter span {display:block; height:100%}
.qc-why {color:#5f6470; font-size:0.82rem; line-height:1.35; white-space:nowrap; overflow:hidden;
         text-overflow:ellipsis}
.qc-sug b {font-weight:600}
.qc-keys {color:#5f6470; font-size:0.78rem; line-height:1.8}
.qc-keys span {margin-right:0.6rem; white-space:nowrap}
.qc-keys kbd {border:1px solid #ced4da; border-bottom-width:2px; border-radius:4px; padding:0 0.3rem;
              background:#f8f9fa; font-size:0.75rem}
</style>"""


def render(ctx) -> None:
    st.html(STYLE)
    st.title("Gjennomgang")
    reviewer = ctx.reviewer
    if not reviewer:
        _ask_name()
        return
    show_flash()
    _training_status(ctx)
    opened = _opened_from_link()
    filters, order = _filter_controls(ctx, reviewer)
    claims = claims_for(ctx.db)
    ranker = ranking_for(ctx.db).items
    with ctx.factory() as session:
        queue = queue_state.ensure(session, ctx.codebook, filters, order, avoid=set(claims.others(reviewer)),
                                   ranker=ranker)
        if opened is not None:
            queue_state.show(opened)
        segment_id = queue_state.current(session, ctx.codebook, queue, ranker)
        view = load_segment(session, segment_id) if segment_id is not None else None
        totals = store_counts(session, reviewer)
        changed_by = _changed_since_seen(session, view)
    if queue.note:
        st.caption(queue.note)
    if view is None:
        if opened is not None:
            st.warning("Fant ikke segmentet lenken viser til. Kanskje er dokumentet tatt ut av databasen.")
        st.success("Ingen flere segmenter med disse filtrene. Velg andre filtre, eller gå til **Oversikt**.")
        _navigation(ctx, reviewer, None, queue)
        return
    if changed_by:
        st.info(f"Segmentet ble endret av en annen ({changed_by}) – her er den oppdaterte versjonen.")
    colleague = claims.others(reviewer).get(view.id)
    claims.claim(view.id, reviewer)
    if colleague:
        st.info(f"{colleague} har også dette segmentet åpent. Endringer blir ikke overskrevet, men dere kan "
                "hoppe over for å unngå dobbeltarbeid.")
    colours = code_colours(s.code for s in view.suggestions)
    # the key names the segment: the keyboard script scrolls to the top when it changes
    with st.container(key="review_page"), st.container(key=f"segment_{view.id}"):
        text_col, decide_col = st.columns([1, 1.2], gap="medium")
        with text_col:
            _header(view, queue, totals)
            _segment_context(view)
            _segment(view, colours)
            show_extraction_context(ctx, view.id)  # the table around a table row; OCR marks
        with decide_col:
            _navigation(ctx, reviewer, view, queue)
            _suggestions(ctx, view, reviewer, colours)
            _add_code(ctx, view, reviewer)
            _shortcut_legend()
            _memo(ctx, view, reviewer)
            _others(view, reviewer, ctx.codebook)
    st.html(KEYS_SCRIPT, unsafe_allow_javascript=True)


def _opened_from_link() -> int | None:
    """A segment asked for in the URL (``/gjennomgang?segment=ID``, the links on Analyse); read once."""
    raw = st.query_params.get("segment")
    if raw is None:
        return None
    del st.query_params["segment"]
    try:
        return int(raw)
    except ValueError:
        return None


def _changed_since_seen(session, view: SegmentView | None) -> str | None:
    """Who changed the segment on screen since this session last drew it (not counting our own writes)."""
    seen = st.session_state.get(SEEN_KEY)
    if view is None:
        return None
    st.session_state[SEEN_KEY] = (view.id, view.review_version)
    if seen is None or seen[0] != view.id or seen[1] == view.review_version:
        return None
    return actions.last_changed_by(session, view.id) or "ukjent"


# -- name -------------------------------------------------------------------
def _ask_name() -> None:
    st.info("Skriv navnet ditt for å begynne. Alle endringer lagres med navnet ditt og tidspunktet.")
    with st.form("name_form"):
        st.text_input("Ditt navn", key="name_prompt")
        st.form_submit_button("Start gjennomgang", type="primary", on_click=_take_name)


def _take_name() -> None:
    name = " ".join(str(st.session_state.get("name_prompt") or "").split())
    if name:
        st.session_state["reviewer"] = name  # the sidebar field shows it from now on


# -- filters ----------------------------------------------------------------
def _filter_controls(ctx, reviewer: str) -> tuple[Filters, str]:
    with ctx.factory() as session:
        documents = queue_state.document_choices(session)
    book = ctx.codebook
    # a kept filter can point at a document or code that is gone (new codebook, other store)
    if st.session_state.get("f_document") not in (None, *documents):
        st.session_state["f_document"] = None
    if st.session_state.get("f_code") not in (None, *book.code_ids):
        st.session_state["f_code"] = None
    with st.expander("Filter og rekkefølge", expanded=False):
        c1, c2, c3, c4 = st.columns(4)
        doc = c1.selectbox("Dokument", [None, *documents], format_func=lambda d: "Alle" if d is None else documents[d],
                           key="f_document")
        code = c2.selectbox("Kode", [None, *book.code_ids], key="f_code",
                            format_func=lambda c: "Alle" if c is None else code_label(book, c))
        status = c3.selectbox("Status", list(STATUSES), format_func=STATUSES.get, key="f_status")
        band = c4.selectbox("Sikkerhet i forslagene", [None, *BANDS], key="f_band",
                            format_func=lambda b: "Alle" if b is None else BANDS[b][0])
        order = st.radio("Rekkefølge", ["al", "doc"], horizontal=True, key="f_order",
                         format_func={"al": "Aktiv læring (det modellen lærer mest av først)",
                                      "doc": "Dokumentrekkefølge"}.get)
    return Filters(document_id=doc, code=code, status=status, band=band, reviewer=reviewer), order


# -- the segment --------------------------------------------------------------
def _header(view: SegmentView, queue, totals) -> None:
    st.caption(f"Gjennomgått: {integer(totals.reviewed)} av {integer(totals.codable)} segmenter å kode "
               f"({percent(totals.share_reviewed)}) · du: {integer(totals.mine)} · nr. {queue.pos + 1} i køen")
    st.subheader(view.ref, anchor=False)
    facts = [view.citation, view.file_name]
    if view.speaker:
        facts.insert(1, f"taler: {view.speaker}")
    st.caption(_md(" · ".join(facts)))
    reason = queue.reasons.get(view.id)
    if reason:
        st.caption(_md(f"Valgt fordi: {reason}"))
    if view.done_by:
        st.caption(_md("✔ Gjennomgått av " + ", ".join(view.done_by)))


def _segment_context(view: SegmentView) -> None:
    """Per-segment context, shown above the segment: the interviewer's question for an interview turn.

    This is the place for more of it (the whole table around a table-row segment, the OCR
    confidence of a scanned page): add it here, one block per kind of context."""
    if view.question:
        context_box(view.question, "Spørsmål fra intervjueren")


def _segment(view: SegmentView, colours: dict) -> None:
    context_box(view.previous, "Forrige avsnitt", limit=CONTEXT_CHARS)
    text_box(view.text, view.evidence_spans({code: light for code, (light, _) in colours.items()}),
             label="Segment – ord som ga forslag er markert i kodens farge")
    context_box(view.following, "Neste avsnitt", limit=CONTEXT_CHARS)


def _suggestions(ctx, view: SegmentView, reviewer: str, colours: dict) -> None:
    book = ctx.codebook
    suggested = {s.code for s in view.suggestions}
    added = [c for c, ok in view.reviewer_codes(reviewer).items() if ok and c not in suggested]
    pending = view.pending(reviewer)
    if view.suggestions:
        st.caption(f"«Ferdig – neste» godtar forslagene merket **godtas** ({len(pending)}), ikke de svakere.")
    else:
        st.caption("Ingen forslag for dette segmentet. Legg til koder under, eller trykk «Ferdig – neste».")
    rows = [(sug.code, sug) for sug in view.suggestions] + [(code, None) for code in added]
    for i, (code, sug) in enumerate(rows):
        with st.container(key=f"sug_{i}"):
            _decision_row(ctx, view, reviewer, code, book, sug, colours.get(code, ("#eee", "#999")))


def _decision_row(ctx, view: SegmentView, reviewer: str, code: str, book, sug, colour) -> None:
    state = view.decision(reviewer, code)
    try:
        name, theme = book.code(code).name, book.theme_of(code).name
    except KeyError:
        name, theme = code, "ikke i kodeboken"
    if state is not None:
        badge = ("qc-yes", "✓ godtatt") if state else ("qc-no", "✗ avvist")
    elif sug is None:
        badge = ("qc-yes", "lagt til")
    else:
        badge = ("qc-pending", "godtas") if sug.applied else ("qc-weak", "tas ikke med")
    why = sug.why() if sug is not None else "lagt til av deg"
    meter = ""
    if sug is not None:
        fill = colour[1] if sug.applied else "#adb5bd"
        meter = (f'<span class="qc-meter" title="sikkerhet {number(sug.score)}"><span style="width:'
                 f'{round(100 * min(1.0, sug.score))}%;background:{fill}"></span></span>')
    provenance = _provenance(sug)
    label_col, yes_col, no_col = st.columns([5, 1, 1], vertical_alignment="center", gap="small")
    details = " · ".join(part for part in (why, provenance) if part)
    label_col.html(
        f'<div class="qc-sug" title="{escape(theme)} › {escape(code)}&#10;{escape(details)}"><span class="qc-swatch" '
        f'style="background:{colour[0]};border-color:{colour[1]}"></span><b>{escape(name)}</b> '
        f'<span class="qc-badge {badge[0]}">{badge[1]}</span><div class="qc-why">{meter}{escape(details)}</div></div>')
    yes_col.button("Godta", key=f"yes_{view.id}_{code}", disabled=state is True, width="stretch",
                   on_click=_do, args=(ctx, "accept", view.id, code, view.review_version))
    no_col.button("Avvis", key=f"no_{view.id}_{code}", disabled=state is False, width="stretch",
                  on_click=_do, args=(ctx, "reject", view.id, code, view.review_version))


def _provenance(sug) -> str:
    """Who made the final decision, in plain Norwegian; said loudest where rules and model disagree."""
    if sug is None:
        return ""
    if sug.overruled:
        return f"avgjort av modellen (regelen sa {'ja' if sug.decisions.get('rule') else 'nei'})"
    return {"model": "avgjort av modellen, enig med regelen", "rule": "avgjort av regelen"}.get(sug.decided_by, "")


def _add_code(ctx, view: SegmentView, reviewer: str) -> None:
    """One pick adds one code (a selectbox, not a multiselect: no "select all matches")."""
    book = ctx.codebook
    have = {c for c, ok in view.reviewer_codes(reviewer).items() if ok}
    options = [c for c in book.code_ids if c not in have]
    key = f"add_{view.id}"
    st.selectbox("Legg til kode", options, index=None, key=key, format_func=lambda c: code_label(book, c),
                 placeholder="Legg til kode fra kodeboken … (L)", label_visibility="collapsed",
                 on_change=_do_add, args=(ctx, view.id, key, view.review_version))


def _shortcut_legend() -> None:
    keys = " ".join(f'<span><kbd>{escape(k)}</kbd> {escape(what)}</span>' for k, what in SHORTCUTS)
    st.html(f'<div class="qc-keys">Tastatur: {keys}</div>')


def _memo(ctx, view: SegmentView, reviewer: str) -> None:
    key = f"memo_{view.id}"
    if key not in st.session_state:
        st.session_state[key] = view.memos.get(reviewer, "")
    with st.expander("Notat (memo)" + (" ✎" if view.memos.get(reviewer) else ""), expanded=bool(view.memos.get(reviewer))):
        st.text_area("Notat (memo)", key=key, height=100, label_visibility="collapsed",
                     placeholder="Tanker om segmentet, tvilstilfeller, sitater …")
        st.button("Lagre notat", key=f"memobtn_{view.id}", on_click=_do_memo,
                  args=(ctx, view.id, key, view.review_version))


def _others(view: SegmentView, reviewer: str, book) -> None:
    others = {name: codes for name, codes in view.decisions.items() if name != reviewer}
    memos = {name: text for name, text in view.memos.items() if name != reviewer}
    if not others and not memos:
        return
    with st.expander("Andre gjennomgåeres vurderinger"):
        for name, decisions in sorted(others.items()):
            yes = ", ".join(_name(book, c) for c, d in decisions.items() if d.applied) or "–"
            no = ", ".join(_name(book, c) for c, d in decisions.items() if not d.applied) or "–"
            st.markdown(f"**{_md(name)}**: godtatt {_md(yes)}; avvist {_md(no)}")
        for name, text in sorted(memos.items()):
            st.markdown(f"**{_md(name)}** (notat): {_md(text)}")


def _navigation(ctx, reviewer: str, view: SegmentView | None, queue) -> None:
    """The main action first, so it is on screen however many suggestions follow."""
    if view is not None:
        pending = tuple(view.pending(reviewer))
        st.button("Ferdig – neste ▶", key="nav_done", type="primary", width="stretch", on_click=_do_done,
                  args=(ctx, view.id, view.review_version, pending, reviewer not in view.done_by),
                  help="Enter. Markerer segmentet som gjennomgått; forslag merket «godtas» blir godtatt.")
    c1, c2, c3 = st.columns(3, gap="small")
    c1.button("◀ Forrige", key="nav_prev", disabled=queue.pos == 0, width="stretch", on_click=queue_state.move,
              args=(-1,), help="Pil venstre")
    c2.button("Hopp over ▶", key="nav_skip", disabled=view is None, width="stretch", on_click=queue_state.move,
              args=(1,), help="Pil høyre. Går videre uten å merke segmentet som gjennomgått.")
    c3.button("↶ Angre", key="nav_undo", width="stretch", on_click=_do_undo, args=(ctx,),
              help="U. Angrer din siste endring (den blir stående i loggen som angret).")


# -- actions (button callbacks: they run before the page is drawn again) -------
def _write(ctx, segment_id: int, action) -> int | None:
    """Run ``action(reviewer) -> new version``; turn refusals into messages. The new version if it was written."""
    reviewer = ctx.reviewer
    if not reviewer:
        flash("warning", "Skriv navnet ditt før du gjør endringer.")
        return None
    try:
        version = action(reviewer)
    except actions.StaleWriteError as err:
        who = err.changed_by or "ukjent"
        where = "en annen" if who != reviewer else "deg i en annen fane eller et dobbeltklikk"
        flash("warning", f"Segmentet ble endret av {where} ({who}) – her er den oppdaterte versjonen. "
                         "Se over og gjør valget ditt på nytt.")
        return None
    except actions.UnknownCodeError as err:
        flash("error", f"Koden finnes ikke i kodeboken i databasen: {err}")
        return None
    except OperationalError:
        flash("error", "Databasen var opptatt, og endringen ble IKKE lagret. Prøv igjen om et øyeblikk.")
        return None
    st.session_state[SEEN_KEY] = (segment_id, version)  # our own change is no news to us
    return version


def _do(ctx, action: str, segment_id: int, code: str, version: int) -> None:
    fn = {"accept": actions.accept, "reject": actions.reject}[action]
    _write(ctx, segment_id, lambda who: fn(ctx.factory, segment_id, code, who, version))


def _do_add(ctx, segment_id: int, key: str, version: int) -> None:
    """The code just picked, added at once; the box is emptied for the next pick."""
    code = st.session_state.get(key)
    if code:
        _write(ctx, segment_id, lambda who: actions.add(ctx.factory, segment_id, code, who, version))
    st.session_state[key] = None


def _do_memo(ctx, segment_id: int, key: str, version: int) -> None:
    text = st.session_state.get(key, "")
    if _write(ctx, segment_id, lambda who: actions.memo(ctx.factory, segment_id, who, text, version)) is not None:
        flash("success", "Notatet er lagret.")


def _do_done(ctx, segment_id: int, version: int, pending: tuple[str, ...], first_time: bool = True) -> None:
    written = _write(ctx, segment_id, lambda who: actions.mark_done(ctx.factory, segment_id, who, version,
                                                                    accept_codes=pending))
    if written is not None:
        if first_time:
            _count_reviewed(ctx, ctx.reviewer)
        queue_state.move(1)


def _do_undo(ctx) -> None:
    reviewer = ctx.reviewer
    if not reviewer:
        flash("warning", "Skriv navnet ditt før du gjør endringer.")
        return
    try:
        result = actions.undo_last(ctx.factory, reviewer)
    except OperationalError:
        flash("error", "Databasen var opptatt, så ingenting ble angret. Prøv igjen om et øyeblikk.")
        return
    if result is None:
        flash("info", "Det er ingenting å angre.")
        return
    what = ", ".join(result.codes) if result.codes else ""
    if result.reviews:
        what = "«ferdig»" + (f" og {what}" if what else "")
    with ctx.factory() as session:
        ref = segment_ref_of(session, result.segment_id)
    flash("success", f"Angret: {what or 'siste endring'} ({ref}).")
    st.session_state[SEEN_KEY] = (result.segment_id, result.version)
    queue_state.show(result.segment_id)


# -- retraining -----------------------------------------------------------------
def _count_reviewed(ctx, reviewer: str) -> None:
    """Retrain after every N segments this reviewer finished (not after N clicks)."""
    st.session_state[REVIEWED_KEY] = st.session_state.get(REVIEWED_KEY, 0) + 1
    every = int(st.session_state.get("retrain_every") or 20)
    if st.session_state[REVIEWED_KEY] >= every and trainer_available():
        if retrainer_for(ctx.db).start(ctx.factory, reviewer, ctx.codebook_path,
                                       on_done=ranking_for(ctx.db).invalidate):
            st.session_state[REVIEWED_KEY] = 0
            flash("info", f"{every} segmenter gjennomgått siden sist: modellen trenes på nytt i bakgrunnen.")


def _training_status(ctx) -> None:
    trainer = retrainer_for(ctx.db)
    if trainer.running:
        _poll_training(ctx)
        return
    last = trainer.last
    if last is None or st.session_state.get(SEEN_TRAINING_KEY) == last.number:
        return
    st.session_state[SEEN_TRAINING_KEY] = last.number
    if not last.ok:
        st.warning(f"Treningen av modellen feilet: {last.error}")
        return
    queue_state.rerank()  # what comes next is chosen by the new model
    change = "ikke målt"
    if last.after is not None:
        change = (f"{number(last.before)} → {number(last.after)}" if last.before is not None
                  else f"{number(last.after)} (første modell)")
    recoded = f" Nye forslag for {last.recoded} segmenter." if last.recoded else ""
    alone = (" Alle gjennomgåtte segmenter er fra ett dokument, så grunnmodellens avgjørelser står til du har "
             "gjennomgått segmenter i et dokument til." if last.one_document else "")
    st.success(f"Modellen er trent på nytt på {last.n_labelled} gjennomgåtte segmenter ({number(last.seconds, 1)} s). "
               f"Samsvar modell–gjennomgåer (makro-kappa, kryssvalidert): {change}.{recoded}{alone}")


@st.fragment(run_every=2)
def _poll_training(ctx) -> None:
    if retrainer_for(ctx.db).running:
        st.caption("⏳ Modellen trenes på nytt i bakgrunnen … (du kan fortsette å kode)")
    else:
        st.rerun()


def _name(book, code: str) -> str:
    try:
        return book.code(code).name
    except KeyError:
        return code
