"""Suggestions for new codes: two planted topics are found, and a group becomes a code with its segments coded."""
from __future__ import annotations

import hashlib
import random
import shutil

import pytest
from sqlalchemy import select

from qualcode.coding.apply import sync_codebook
from qualcode.coding.codebook import DEFAULT_PATH, load_codebook
from qualcode.review import actions
from qualcode.search.discover import candidate_segments, discover, draft_code, create_code, slug
from qualcode.store import schema, session_factory, transaction

FOSTER = ["fosterhjem", "fosterforeldre", "rekruttering", "beredskapshjem", "godtgjøring", "fosterbarn",
          "fosterhjemstjenesten"]
RUS = ["rusmidler", "cannabis", "utekontakten", "alkohol", "russetiden", "rusforebygging", "festene"]
FILLER = ["Kommunen", "Vi", "Tjenesten", "Planen"]
VERBS = ["arbeider med", "prioriterer", "følger opp", "har satt av tid til", "styrker"]
OTHER = ["Møtet ble holdt i rådhuset.", "Planen ble vedtatt i juni.", "Det er laget en tidsplan for arbeidet.",
         "Dokumentet er revidert.", "Kommunestyret behandlet saken.", "Sekretariatet skriver referat."]


def _sentence(rng: random.Random, words: list[str]) -> str:
    a, b, c = rng.sample(words, 3)
    return f"{rng.choice(FILLER)} {rng.choice(VERBS)} {a} og {b}, og {c} er viktig."


@pytest.fixture
def planted(tmp_path):
    """20 segments about foster homes, 20 about drugs and youth, 6 about nothing in particular."""
    db = str(tmp_path / "store.db")
    rng = random.Random(7)
    texts = [("foster", _sentence(rng, FOSTER)) for _ in range(20)] + [("rus", _sentence(rng, RUS)) for _ in range(20)]
    texts += [("annet", t) for t in OTHER]
    rng.shuffle(texts)
    topic = {}
    with transaction(db) as session:
        sync_codebook(session, load_codebook())
        body = "\n\n".join(t for _, t in texts)
        doc = schema.Document(content_hash=hashlib.sha256(body.encode()).hexdigest(), file_name="plan.txt",
                              source_path="/plan.txt", municipality="Testvik kommune", year=2025, doc_type="plan",
                              size_bytes=len(body), page_count=1, engine="test", text=body)
        session.add(doc)
        session.flush()
        for seq, (kind, text) in enumerate(texts):
            seg = schema.Segment(document_id=doc.id, seq=seq, kind="paragraph", start=0, end=len(text),
                                 page_start=1, page_end=1, text=text)
            session.add(seg)
            session.flush()
            topic[seg.id] = kind
    return session_factory(db), topic


def _make_up(group, topic) -> tuple[str, float]:
    kinds = [topic[s] for s in group.segment_ids]
    main = max(set(kinds), key=kinds.count)
    return main, kinds.count(main) / len(kinds)


def test_two_planted_topics_are_found(planted):
    factory, topic = planted
    with factory() as s:
        ids = candidate_segments(s, "uncoded")
    assert sorted(ids) == sorted(topic)  # nothing is coded yet
    steps = []
    result = discover(factory, ids, k=2, progress=lambda share, what: steps.append((share, what)))
    assert len(result.groups) == 2
    found = {}
    for group in result.groups:
        main, purity = _make_up(group, topic)
        found[main] = group
        assert purity >= 0.9 and group.size >= 18
        assert len(group.typical) == 3 and all(topic[s] == main for s in group.typical)
    assert set(found) == {"foster", "rus"}
    assert {"fosterhjem", "godtgjøring"} <= set(found["foster"].words)
    assert {"rusmiddel", "cannabis", "alkohol"} <= set(found["rus"].words)
    assert steps[-1] == (1.0, "Ferdig") and all(a <= b for (a, _), (b, _) in zip(steps, steps[1:]))


def test_more_groups_split_topics_but_never_mix_them(planted):
    factory, topic = planted
    result = discover(factory, list(topic), k=4)
    made_up = [_make_up(group, topic) for group in result.groups]
    assert {main for main, _ in made_up} == {"foster", "rus"}
    assert all(purity >= 0.8 for _, purity in made_up)


def test_too_few_segments_say_so(planted):
    factory, topic = planted
    result = discover(factory, list(topic)[:5], k=4)
    assert result.groups == [] and "For få segmenter" in result.note


def test_segments_with_codes_are_not_candidates(planted):
    factory, topic = planted
    first, second, third = list(topic)[:3]
    with factory.begin() as s:
        s.add(schema.Coding(segment_id=first, code="plan.mal", source="rule", applied=True, score=0.9,
                            created_by="qualcode-rules"))
    actions.mark_done(factory, second, "Kari", 0)  # reviewed, no codes: fits nothing
    actions.add(factory, third, "plan.mal", "Kari", 0)
    actions.mark_done(factory, third, "Kari", 1)
    with factory() as s:
        assert first not in candidate_segments(s, "uncoded") and third not in candidate_segments(s, "uncoded")
        assert candidate_segments(s, "unfitted") == [second]
        assert len(candidate_segments(s, "all")) == len(topic)
        assert candidate_segments(s, "all", ids=[first, 999]) == [first]


def test_a_group_becomes_a_code_with_its_segments_coded(planted, tmp_path):
    factory, topic = planted
    current = tmp_path / "current.yaml"
    shutil.copy(DEFAULT_PATH, current)
    own = tmp_path / "store.db.codebook.yaml"
    result = discover(factory, list(topic), k=3)
    group = max((g for g in result.groups), key=lambda g: sum(topic[s] == "foster" for s in g.segment_ids))
    with factory() as s:
        texts = {seg.id: seg.text for seg in s.scalars(select(schema.Segment))}
    code = draft_code(group, "Fosterhjem og beredskap", "nytt", texts)
    assert code["id"] == "nytt.fosterhjem_og_beredskap" and code["patterns"] == group.words[:5]
    assert len(code["examples"]) == 3 and group.words[0] in code["definition"]
    book, batch = create_code(factory, group, code, "Kari", current, own, theme_name="Nye tema")
    assert book.code(code["id"]).name == "Fosterhjem og beredskap"
    assert load_codebook(own).theme_of(code["id"]).name == "Nye tema"
    assert sorted(batch.segments) == sorted(group.segment_ids)
    with factory() as s:
        assert s.get(schema.Code, code["id"]).active
        coded = s.scalars(select(schema.Coding.segment_id).where(
            schema.Coding.code == code["id"], schema.Coding.source == "reviewer", schema.Coding.active)).all()
        summary = s.get(schema.AuditEntry, batch.audit_id)
    assert sorted(coded) == sorted(group.segment_ids)
    assert summary.action == "add_many" and summary.detail["discovered_words"] == group.words[:10]
    assert actions.undo_many(factory, batch.audit_id, "Kari") is not None


@pytest.mark.parametrize("name, expected", [("Frivillige lag og foreninger", "frivillige_lag_og_foreninger"),
                                            ("Økonomi & styring", "okonomi_styring"), ("Åpne møteplasser", "apne_moteplasser"),
                                            ("!!!", "ny_kode")])
def test_names_become_code_ids(name, expected):
    assert slug(name) == expected
