"""The shipped codebook and codebook validation (errors must name file, code and field)."""
from __future__ import annotations

import re

import pytest

from qualcode.coding.codebook import DEFAULT_PATH, Codebook, CodebookError, load_codebook

SMALL = """\
name: Test
language: nb
version_label: test 1
terms:
  penger: [budsjett*, midler]
themes:
  - id: niva
    name: Nivå
    codes:
      - id: niva.universell
        name: Universell
        definition: For alle.
        patterns:
          - "alle barn"
          - "helsestasjon*"
          - "universell*"
  - id: barriere
    name: Barrierer
    codes:
      - id: barriere.okonomi
        name: Økonomi
        definition: Lite penger.
        patterns: ["@penger"]
        context:
          - applies_to: ["@penger"]
            require: [kutt*]
"""


@pytest.fixture(scope="module")
def book() -> Codebook:
    return load_codebook()


def write(tmp_path, text: str):
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_codebook_loads_with_metadata(book):
    assert book.language == "nb" and book.name and book.version_label
    assert re.fullmatch(r"[0-9a-f]{12}", book.version)
    assert book.source == str(DEFAULT_PATH)
    assert len(book.code_ids) == len(set(book.code_ids))
    assert [t.id for t in book.themes] == ["niva", "mandat", "barriere", "suksess", "plan", "perspektiv", "begrep"]


def test_every_code_is_documented(book):
    for code in book.codes:
        assert code.name and code.definition and code.patterns, code.id
        assert 2 <= len(code.examples) <= 4, code.id
        assert book.theme_of(code.id).id == code.id.split(".")[0]


def test_spec_code_ids_are_all_in_the_shipped_codebook(book, shared):
    spec = shared / "codebook-spec.md"
    if not spec.is_file():
        pytest.skip("codebook-spec.md not available")
    ids = set(re.findall(r"`([a-z]+\.[a-z_]+)`", spec.read_text(encoding="utf-8")))
    assert len(ids) >= 20
    assert ids <= set(book.code_ids), sorted(ids - set(book.code_ids))


def test_version_is_a_content_hash():
    a = Codebook.from_yaml_text(SMALL)
    b = Codebook.from_yaml_text(SMALL.replace("test 1", "test 2"))
    assert a.version != b.version
    assert a.version == Codebook.from_yaml_text(SMALL).version


def test_yaml_round_trip(book):
    again = Codebook.from_yaml_text(book.to_yaml())
    assert again.model_dump() == book.model_dump()


def test_empty_pattern_error_names_file_code_and_field(tmp_path):
    path = write(tmp_path, SMALL.replace('- "universell*"', '- ""'))
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "code 'niva.universell'" in msg
    assert "patterns[2]" in msg
    assert "must not be empty" in msg


def test_missing_field_error_names_the_code(tmp_path):
    path = write(tmp_path, SMALL.replace("        definition: Lite penger.\n", ""))
    with pytest.raises(CodebookError, match=r"code 'barriere.okonomi', field 'definition'"):
        load_codebook(path)


def test_undefined_term_list_is_reported():
    with pytest.raises(CodebookError, match=r"edited.yaml: code 'barriere.okonomi', field 'patterns\[0\]'.*'@kroner'"):
        Codebook.from_yaml_text(SMALL.replace('["@penger"]', '["@kroner"]').replace('applies_to: ["@penger"]', "applies_to: null"),
                                source="edited.yaml")


def test_context_rule_must_point_at_a_real_pattern():
    with pytest.raises(CodebookError, match=r"code 'barriere.okonomi', field 'context.*not one of"):
        Codebook.from_yaml_text(SMALL.replace('applies_to: ["@penger"]', 'applies_to: ["penger"]'))


def test_bad_wildcard_and_wrong_theme_prefix():
    with pytest.raises(CodebookError, match="bad term"):
        Codebook.from_yaml_text(SMALL.replace('"alle barn"', '"al*le"'))
    with pytest.raises(CodebookError, match="code 'plan.universell', field 'id': filed under theme 'niva'"):
        Codebook.from_yaml_text(SMALL.replace("id: niva.universell", "id: plan.universell"))


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(CodebookError, match="x.yaml: not valid YAML"):
        load_codebook(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(CodebookError, match="nope.yaml"):
        load_codebook(tmp_path / "nope.yaml")


def test_pattern_shorthand_and_near_rules():
    book = Codebook.from_yaml_text(SMALL.replace('- "alle barn"', '- {near: [alle, barn*], within: 3, weight: 0.5}'))
    first = book.code("niva.universell").patterns[0]
    assert first.near == ["alle", "barn*"] and first.weight == 0.5
    assert first.label == "near(alle, barn*, 3)"
    assert book.code("niva.universell").patterns[1].pattern == "helsestasjon*"
