"""Gjennomgang: one segment at a time; accept, reject or add codes, write a memo, mark done.

Every button writes at once through ``qualcode.review.actions`` (one transaction,
audited). Buttons carry the ``review_version`` the reviewer saw when the page was
drawn; if someone else changed the segment since, the write is refused and the
fresh state is shown instead.
"""
from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import OperationalError

from qualcode.app import queue_state
from qualcode.app.claims import claims_for
from qualcode.app.ranking import ranking_for
from qualcode.app.retrain import retrainer_for, trainer_available
from qualcode.app.widgets import SOURCE_NAMES, code_label, context_box, flash, number, show_flash, text_box
from qualcode.review import actions
from qualcode.review.progress import overall
from qualcode.review.queue import BANDS, STATUSES, Filters
from qualcode.review.segment_view import SegmentView, load_segment

CORRECTIONS_KEY = "_corrections"
SEEN_TRAINING_KEY = "_seen_training"
SEEN_KEY = "_seen_version"  # (segment id, review_version) as last drawn


def render(ctx) -> None:
    st.title("Gjennomgang")
    reviewer = ctx.reviewer
    if not reviewer:
        _ask_name()
        return
    show_flash()
    _training_status(ctx)
    filters, order = _filter_controls(ctx, reviewer)
    claims = claims_for(ctx.db)
    ranker = ranking_for(ctx.db).items
    with ctx.factory() as session:
        queue = queue_state.ensure(session, ctx.codebook, filters, order, avoid=set(claims.others(reviewer)),
                                   ranker=ranker)
        segment_id = queue_state.current(session, ctx.codebook, queue, ranker)
        view = load_segment(session, segment_id) if segment_id is not None else None
        totals = overall(session, reviewer)
        changed_by = _changed_since_seen(session, view)
    if queue.note:
        st.caption(queue.note)
    if view is None:
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
    text_col, decide_col = st.columns([1.1, 1], gap="large")
    with text_col:
        _header(view, queue, totals)
        _segment(view)
    with decide_col:
        _suggestions(ctx, view, reviewer)
        _add_codes(ctx, view, reviewer)
        _navigation(ctx, reviewer, view, queue)
        _memo(ctx, view, reviewer)
        _others(view, reviewer, ctx.codebook)


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
def _header(view: SegmentView, queue, totals: dict) -> None:
    st.caption(f"Gjennomgått i alt: {totals['done']} av {totals['codable']} segmenter (du: {totals['mine']})")
    st.subheader(view.citation)
    facts = [view.doc_type or "dokument", str(view.year or "år ukjent"), view.file_name,
             f"segment {view.seq + 1}", f"nr. {queue.pos + 1} i køen"]
    if view.speaker:
        facts.insert(2, f"taler: {view.speaker}")
    reason = queue.reasons.get(view.id)
    st.caption(_md(" · ".join(facts) + (f" · valgt fordi: {reason}" if reason else "")))
    if view.done_by:
        st.caption(_md("✔ Gjennomgått av " + ", ".join(view.done_by)))


def _segment(view: SegmentView) -> None:
    if view.question:
        context_box(view.question, "Spørsmål fra intervjueren")
    context_box(view.previous, "Forrige avsnitt")
    text_box(view.text, view.evidence_spans(), label="Segment (markert: ord som ga forslag)")
    context_box(view.following, "Neste avsnitt")


def _suggestions(ctx, view: SegmentView, reviewer: str) -> None:
    book = ctx.codebook
    applied = [s for s in view.suggestions if s.applied]
    weak = [s for s in view.suggestions if not s.applied]
    suggested = {s.code for s in view.suggestions}
    added = [c for c, ok in view.reviewer_codes(reviewer).items() if ok and c not in suggested]
    st.markdown("**Foreslåtte koder**")
    if applied:
        st.caption("Forslag du ikke avviser, godtas når du trykker «Ferdig – neste».")
    else:
        st.caption("Ingen sterke forslag for dette segmentet.")
    for sug in applied:
        _decision_row(ctx, view, reviewer, sug.code, book, sug.scores, pending="foreslått", why=_decided(sug))
    if weak:
        st.markdown("**Mulige koder** (svakere forslag)")
        for sug in weak:
            _decision_row(ctx, view, reviewer, sug.code, book, sug.scores, pending="ikke valgt", why=_decided(sug))
    if added:
        st.markdown("**Lagt til av deg**")
        for code in added:
            _decision_row(ctx, view, reviewer, code, book, {}, pending="")


def _decided(sug) -> str:
    """Who decided, in Norwegian: shown where rules and model disagree (or the model's own learning decided)."""
    if sug.overruled:
        rule = "ja" if sug.decisions.get("rule") else "nei"
        return f"avgjort av modellen (regelen sa {rule})"
    if sug.decided_by == "model":
        return "avgjort av modellen, enig med regelen"
    if sug.decided_by == "rule":
        return "avgjort av regelen"
    return ""


def _decision_row(ctx, view, reviewer, code, book, scores, pending, why: str = "") -> None:
    state = view.decision(reviewer, code)
    try:
        name, theme = book.code(code).name, book.theme_of(code).name
    except KeyError:
        name, theme = code, "ikke i kodeboken"
    details = [theme, code, *(f"{SOURCE_NAMES.get(src, src)} {number(score)}" for src, score in sorted(scores.items()))]
    if why:
        details.append(why)
    status = {True: ":green[**✓ godtatt**]", False: ":red[**✗ avvist**]"}.get(state, f":gray[{pending}]" if pending else "")
    label_col, yes_col, no_col = st.columns([4.2, 1.5, 1.5], vertical_alignment="center")
    label_col.markdown(f"**{_md(name)}** {status}  \n:gray[{_md(' · '.join(details))}]")
    yes_col.button("Godta", key=f"yes_{view.id}_{code}", disabled=state is True, width="stretch",
                   on_click=_do, args=(ctx, "accept", view.id, code, view.review_version))
    no_col.button("Avvis", key=f"no_{view.id}_{code}", disabled=state is False, width="stretch",
                  on_click=_do, args=(ctx, "reject", view.id, code, view.review_version))


def _add_codes(ctx, view: SegmentView, reviewer: str) -> None:
    book = ctx.codebook
    have = {c for c, ok in view.reviewer_codes(reviewer).items() if ok}
    options = [c for c in book.code_ids if c not in have]
    key = f"add_{view.id}"
    st.multiselect("Legg til koder fra kodeboken", options, key=key, format_func=lambda c: code_label(book, c),
                   placeholder="Søk etter tema eller kode …")
    st.button("Legg til valgte koder", key=f"addbtn_{view.id}", disabled=not st.session_state.get(key),
              on_click=_do_add, args=(ctx, view.id, key, view.review_version))


def _memo(ctx, view: SegmentView, reviewer: str) -> None:
    key = f"memo_{view.id}"
    if key not in st.session_state:
        st.session_state[key] = view.memos.get(reviewer, "")
    st.text_area("Notat (memo)", key=key, height=120, placeholder="Tanker om segmentet, tvilstilfeller, sitater …")
    st.button("Lagre notat", key=f"memobtn_{view.id}", on_click=_do_memo, args=(ctx, view.id, key, view.review_version))


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
    st.write("")
    if view is not None:
        pending = tuple(view.pending(reviewer))
        st.button("Ferdig – neste ▶", key="nav_done", type="primary", width="stretch", on_click=_do_done,
                  args=(ctx, view.id, view.review_version, pending),
                  help="Markerer segmentet som gjennomgått; foreslåtte koder du ikke har avvist, godtas.")
    c1, c2, c3 = st.columns(3)
    c1.button("◀ Forrige", key="nav_prev", disabled=queue.pos == 0, width="stretch", on_click=queue_state.move,
              args=(-1,))
    c2.button("Hopp over ▶", key="nav_skip", disabled=view is None, width="stretch", on_click=queue_state.move,
              args=(1,))
    c3.button("↶ Angre", key="nav_undo", width="stretch", on_click=_do_undo, args=(ctx,),
              help="Angrer din siste endring (den blir stående i loggen som angret).")


# -- actions (button callbacks: they run before the page is drawn again) -------
def _write(ctx, segment_id: int, action, corrections: int = 1) -> bool:
    """Run ``action(reviewer) -> new version``; turn refusals into messages. True if it was written."""
    reviewer = ctx.reviewer
    if not reviewer:
        flash("warning", "Skriv navnet ditt før du gjør endringer.")
        return False
    try:
        version = action(reviewer)
    except actions.StaleWriteError as err:
        who = err.changed_by or "ukjent"
        where = "en annen" if who != reviewer else "deg i en annen fane eller et dobbeltklikk"
        flash("warning", f"Segmentet ble endret av {where} ({who}) – her er den oppdaterte versjonen. "
                         "Se over og gjør valget ditt på nytt.")
        return False
    except actions.UnknownCodeError as err:
        flash("error", f"Koden finnes ikke i kodeboken i databasen: {err}")
        return False
    except OperationalError:
        flash("error", "Databasen var opptatt, og endringen ble IKKE lagret. Prøv igjen om et øyeblikk.")
        return False
    st.session_state[SEEN_KEY] = (segment_id, version)  # our own change is no news to us
    _count_corrections(ctx, reviewer, corrections)
    return True


def _do(ctx, action: str, segment_id: int, code: str, version: int) -> None:
    fn = {"accept": actions.accept, "reject": actions.reject}[action]
    _write(ctx, segment_id, lambda who: fn(ctx.factory, segment_id, code, who, version))


def _do_add(ctx, segment_id: int, key: str, version: int) -> None:
    for code in list(st.session_state.get(key) or []):
        if not _write(ctx, segment_id, lambda who, c=code, v=version: actions.add(ctx.factory, segment_id, c, who, v)):
            return
        version += 1
    st.session_state[key] = []


def _do_memo(ctx, segment_id: int, key: str, version: int) -> None:
    text = st.session_state.get(key, "")
    if _write(ctx, segment_id, lambda who: actions.memo(ctx.factory, segment_id, who, text, version), corrections=0):
        flash("success", "Notatet er lagret.")


def _do_done(ctx, segment_id: int, version: int, pending: tuple[str, ...]) -> None:
    done = _write(ctx, segment_id, lambda who: actions.mark_done(ctx.factory, segment_id, who, version,
                                                                 accept_codes=pending),
                  corrections=1 + len(pending))
    if done:
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
    flash("success", f"Angret: {what or 'siste endring'} (segment {result.segment_id}).")
    st.session_state[SEEN_KEY] = (result.segment_id, result.version)
    queue_state.show(result.segment_id)


# -- retraining -----------------------------------------------------------------
def _count_corrections(ctx, reviewer: str, n: int) -> None:
    if n <= 0:
        return
    st.session_state[CORRECTIONS_KEY] = st.session_state.get(CORRECTIONS_KEY, 0) + n
    every = int(st.session_state.get("retrain_every") or 20)
    if st.session_state[CORRECTIONS_KEY] >= every and trainer_available():
        if retrainer_for(ctx.db).start(ctx.factory, reviewer, ctx.codebook_path,
                                       on_done=ranking_for(ctx.db).invalidate):
            st.session_state[CORRECTIONS_KEY] = 0
            flash("info", f"{every} rettinger siden sist: modellen trenes på nytt i bakgrunnen.")


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
    st.success(f"Modellen er trent på nytt på {last.n_labelled} gjennomgåtte segmenter ({number(last.seconds, 1)} s). "
               f"Samsvar modell–gjennomgåer (makro-kappa, kryssvalidert): {change}.{recoded}")


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


def _md(text: str) -> str:
    """Text shown through st.markdown without being read as Markdown."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~:$" else ch for ch in str(text))
