"""File names: what a valid name is, and the message a broken rule gives."""

from __future__ import annotations

import pytest

from chalicelib.errors import InvalidNameError
from chalicelib.names import (
    MAX_FOLDER_DEPTH,
    MAX_NAME_BYTES,
    ancestor_folders,
    last_segment,
    normalize_name,
    parent_folder,
)

EMPTY_SEGMENT = "is empty (no leading, trailing or doubled '/')"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("../etc/passwd", "segment 1 of the name is '..', which is not allowed"),
        ("docs/../../etc", "segment 2 of the name is '..', which is not allowed"),
        ("a/./b", "segment 2 of the name is '.', which is not allowed"),
        ("a//b", f"segment 2 of the name {EMPTY_SEGMENT}"),
        ("/abs", f"segment 1 of the name {EMPTY_SEGMENT}"),
        ("docs/", f"segment 2 of the name {EMPTY_SEGMENT}"),
        ("", "name is empty"),
        ("x" * 2000, "name is 2000 bytes of UTF-8; the limit is 1024"),
        ("a\x00b", "name contains the control character U+0000"),
        ("a\nb", "name contains the control character U+000A"),
        ("invoice\u202efdp.exe", "name contains the control character U+202E"),
        ("\ud800.txt", "name is not valid UTF-8 (lone surrogate)"),
    ],
    ids=[
        "parent-escape",
        "parent-inside",
        "dot-segment",
        "doubled-slash",
        "absolute",
        "trailing-slash",
        "empty",
        "2000-bytes",
        "nul",
        "newline",
        "bidi-override",
        "lone-surrogate",
    ],
)
def test_a_broken_name_is_refused_with_the_rule_it_breaks(
    name: str, message: str
) -> None:
    with pytest.raises(InvalidNameError) as caught:
        normalize_name(name)

    assert caught.value.message == message
    assert caught.value.code == "InvalidName"
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "name",
    [
        "a..b.txt",
        "...",
        "..hidden",
        "reports/Q3 results (final)+v2: é.pdf",
        "日本語/ファイル.txt",
    ],
)
def test_an_unusual_but_valid_name_is_kept_as_it_is(name: str) -> None:
    assert normalize_name(name) == name


def test_a_decomposed_name_is_stored_in_its_composed_nfc_form() -> None:
    decomposed = "cafe\u0301/re\u0301sume\u0301.txt"

    name = normalize_name(decomposed)

    assert name == "café/résumé.txt"
    assert len(name) == len(decomposed) - 3


def test_the_byte_limit_counts_utf8_bytes_after_normalisation() -> None:
    at_limit = "é" * 512  # two bytes each once composed
    decomposed_at_limit = "e\u0301" * 512  # three bytes each before

    assert len(at_limit.encode()) == MAX_NAME_BYTES
    assert normalize_name(at_limit) == at_limit
    assert normalize_name(decomposed_at_limit) == at_limit
    with pytest.raises(InvalidNameError, match="1025 bytes of UTF-8"):
        normalize_name(at_limit + "x")


def test_a_name_may_sit_as_deep_as_the_folder_limit_and_no_deeper() -> None:
    deepest = "d/" * MAX_FOLDER_DEPTH + "file.txt"
    too_deep = "d/" * (MAX_FOLDER_DEPTH + 1) + "file.txt"

    assert normalize_name(deepest) == deepest
    with pytest.raises(InvalidNameError) as caught:
        normalize_name(too_deep)

    assert caught.value.message == "name is 33 folders deep; the limit is 32"


@pytest.mark.parametrize(
    ("name", "parent", "ancestors", "last"),
    [
        ("report.pdf", "", [], "report.pdf"),
        ("docs/report.pdf", "docs/", ["docs/"], "report.pdf"),
        ("a/b/c.txt", "a/b/", ["a/", "a/b/"], "c.txt"),
        ("a/b/", "a/", ["a/", "a/b/"], ""),
    ],
)
def test_the_folders_around_a_name_are_derived_from_its_slashes(
    name: str, parent: str, ancestors: list[str], last: str
) -> None:
    assert parent_folder(name) == parent
    assert ancestor_folders(name) == ancestors
    assert last_segment(name) == last


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a\u2028b", "name contains the control character U+2028"),
        ("a\u2029b", "name contains the control character U+2029"),
        ("a\uffffb", "name contains the control character U+FFFF"),
        (
            " ",
            "segment 1 of the name starts or ends with a space, which no one can see",
        ),
        (
            "a ",
            "segment 1 of the name starts or ends with a space, which no one can see",
        ),
        (
            "docs/ a",
            "segment 2 of the name starts or ends with a space, which no one can see",
        ),
    ],
)
def test_names_that_read_other_than_they_are_refused(name: str, message: str) -> None:
    with pytest.raises(InvalidNameError) as caught:
        normalize_name(name)

    assert caught.value.message == message


def test_spaces_inside_a_segment_and_lookalike_slashes_are_fine() -> None:
    assert normalize_name("Q3 results/a b.txt") == "Q3 results/a b.txt"
    assert normalize_name("a\u2215b") == "a\u2215b"
