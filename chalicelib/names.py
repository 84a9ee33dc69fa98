"""File names: the rules a name obeys, and the folders it lives in.

A name is a path such as `docs/2026/report.pdf`. It lives only in the index;
the bytes are keyed by owner and file id, so no name can reach outside its
owner's space. The rules below keep names unambiguous for every client.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from chalicelib.errors import InvalidNameError

# Bytes of UTF-8 after NFC normalisation. The index keeps each name in a sort
# key (`NAME#<name>`, and `FOLDER#<folder>` for each folder above it), and
# DynamoDB refuses sort keys longer than 1,024 bytes.
MAX_NAME_BYTES = 1024
# Each folder level costs one index write when a file appears or goes, and all
# of them share one DynamoDB transaction (at most 100 items).
MAX_FOLDER_DEPTH = 32
SEPARATOR = "/"


# Cc covers C0, DEL and C1; Cf the invisible format characters such as
# bidirectional overrides, which make a name read other than it sorts; Zl and
# Zp break lines where no line should break; Cn holds unassigned code points
# and noncharacters such as U+FFFF, which no font draws.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cn"})


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in _REFUSED_CATEGORIES


def normalize_name(raw: str) -> str:
    """Return the NFC form of a valid name, or raise `InvalidNameError`."""
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidNameError("name is not valid UTF-8 (lone surrogate)") from exc
    name = unicodedata.normalize("NFC", raw)
    if not name:
        raise InvalidNameError("name is empty")
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise InvalidNameError(
            f"name is {size} bytes of UTF-8; the limit is {MAX_NAME_BYTES}"
        )
    bad = next((c for c in name if _is_control(c)), None)
    if bad is not None:
        raise InvalidNameError(f"name contains the control character U+{ord(bad):04X}")
    segments = name.split(SEPARATOR)
    for position, segment in enumerate(segments, start=1):
        if segment == "":
            raise InvalidNameError(
                f"segment {position} of the name is empty "
                "(no leading, trailing or doubled '/')"
            )
        if segment[0].isspace() or segment[-1].isspace():
            raise InvalidNameError(
                f"segment {position} of the name starts or ends with a space, "
                "which no one can see"
            )
        if segment in {".", ".."}:
            raise InvalidNameError(
                f"segment {position} of the name is {segment!r}, which is not allowed"
            )
    if len(segments) - 1 > MAX_FOLDER_DEPTH:
        raise InvalidNameError(
            f"name is {len(segments) - 1} folders deep; the limit is {MAX_FOLDER_DEPTH}"
        )
    return name


def parent_folder(name: str) -> str:
    """The folder holding a name, with its trailing '/'; '' at the top level."""
    cut = name.rfind(SEPARATOR, 0, len(name) - 1 if name.endswith(SEPARATOR) else None)
    return name[: cut + 1] if cut >= 0 else ""


def ancestor_folders(name: str) -> list[str]:
    """Every folder above a file name, outermost first: a/b/c -> [a/, a/b/]."""
    segments = name.split(SEPARATOR)[:-1]
    return [SEPARATOR.join(segments[: i + 1]) + SEPARATOR for i in range(len(segments))]


def last_segment(name: str) -> str:
    return name.rsplit(SEPARATOR, 1)[-1]


def numbered_names(name: str, attempts: int) -> Iterator[str]:
    """Free-name candidates for a name that is taken: `report (1).pdf`, ...

    The number goes before the last segment's extension, as desktop file
    managers place it; a candidate that would break the name rules (too
    long, say) is skipped rather than cut down.
    """
    folder, leaf = parent_folder(name), last_segment(name)
    dot = leaf.rfind(".")
    # A leading dot starts a hidden file's name, not an extension.
    stem, extension = (leaf[:dot], leaf[dot:]) if dot > 0 else (leaf, "")
    for number in range(1, attempts + 1):
        try:
            yield normalize_name(f"{folder}{stem} ({number}){extension}")
        except InvalidNameError:
            continue
