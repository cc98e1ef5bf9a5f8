"""Metadata YAML files (the user's ``--metadata``, the shipped ``metadata/<dataset>.yaml``), read with bounds.

``yaml.safe_load`` constructs no Python objects, but it still expands aliases into shared references: a
"billion laughs" document of a few hundred bytes becomes a graph whose tree — what every later step walks (merging,
normalising, the JSON schema check) — has billions of nodes, and a self-referencing alias makes it infinite.
:func:`read_yaml_mapping` therefore first walks the parser's event stream, which is linear in the file's size, and
counts the nodes the document *expands to* (an alias counts as the whole node it names) and its nesting depth; a
document beyond :data:`MAX_EXPANDED_NODES` or :data:`MAX_DEPTH`, or with an alias inside the node it names, is
refused before anything is built. What is built is then checked for what YAML allows but metadata cannot hold:
keys that are not text, NUL characters and lone surrogates (from ``"\\0"`` and ``"\\ud800"`` escapes), and values
other than mappings, lists, text, numbers, booleans, dates and nulls. A key given twice in one mapping (PyYAML
would silently keep the second value) is accepted only when both values are equal, else refused naming both lines.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import yaml

from ..errors import MetadataError, SourceFormatError
from .source_access import decode_utf8, one_line, printable, read_source_bytes

#: Largest metadata file read (real ones are a few kilobytes).
MAX_YAML_BYTES = 1024 * 1024

#: Deepest nesting of mappings and lists accepted (NWB metadata nests four or five levels).
MAX_DEPTH = 64

#: Most nodes the document may expand to, aliases expanded.
MAX_EXPANDED_NODES = 100_000

EXPECTED_YAML = "a YAML mapping such as 'Subject: {sex: F}'"

#: The libyaml-based loader when PyYAML was built with it (same results, faster); the pure-Python one otherwise.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)



class _LoaderRefusingContradictions(SafeLoader):
    """The safe loader, refusing a key given twice in one mapping with two different values."""

    file_path: Path = Path()

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = (key_node.tag, key_node.value)
                if key in seen and not self._same_value(seen[key], value_node):
                    raise MetadataError(
                        self.file_path,
                        f"the key '{printable(key_node.value)}' is given twice in one mapping with different values "
                        f"(lines {seen[key].start_mark.line + 1} and {value_node.start_mark.line + 1})",
                        f"{EXPECTED_YAML}, each key once",
                    )
                seen.setdefault(key, value_node)
        return super().construct_mapping(node, deep=deep)

    def _same_value(self, first, second) -> bool:
        values = [self.construct_object(value_node, deep=True) for value_node in (first, second)]
        return type(values[0]) is type(values[1]) and values[0] == values[1]


#: Leaf values metadata may hold (``datetime`` is a ``date``).
PLAIN_SCALARS = (str, int, float, bool, date, type(None))


def _parse_events(text: str, file_path: Path):
    """Yield the document's parse events; PyYAML's own nesting limit (6.0.3 and later: its scanner stops at 1000
    open flow collections, scanning ahead of the parser) is reported as the same error as :data:`MAX_DEPTH`."""
    try:
        yield from yaml.parse(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):
            raise MetadataError(file_path, f"nests deeper than {MAX_DEPTH} levels", EXPECTED_YAML) from None
        raise


def _check_events(text: str, file_path: Path) -> None:
    """Refuse a document that nests deeper than :data:`MAX_DEPTH`, expands to more than
    :data:`MAX_EXPANDED_NODES` nodes, or holds an alias inside the node it names (an infinite tree)."""
    expanded: dict[str, int] = {}  # anchor -> nodes its node expands to
    open_nodes: list[list] = []  # [anchor, nodes so far] of the mappings and lists being read
    open_anchors: set[str] = set()
    total = 0

    def add(count: int) -> None:
        nonlocal total
        if open_nodes:
            open_nodes[-1][1] += count
            size = open_nodes[-1][1]
        else:
            total += count
            size = total
        if size > MAX_EXPANDED_NODES:
            raise MetadataError(
                file_path,
                f"expands to more than {MAX_EXPANDED_NODES} nodes (aliases of aliases, a 'billion laughs' document)",
                f"{EXPECTED_YAML}, without nested aliases",
            )

    for event in _parse_events(text, file_path):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(open_nodes) >= MAX_DEPTH:
                raise MetadataError(file_path, f"nests deeper than {MAX_DEPTH} levels", EXPECTED_YAML)
            open_nodes.append([event.anchor, 1])
            if event.anchor:
                open_anchors.add(event.anchor)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, count = open_nodes.pop()
            if anchor:
                open_anchors.discard(anchor)
                expanded[anchor] = count
            add(count)
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                expanded[event.anchor] = 1
            add(1)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                problem = f"the alias *{event.anchor} refers to a node that contains it"
                raise MetadataError(file_path, problem, f"{EXPECTED_YAML}, without self-referencing aliases")
            if event.anchor not in expanded:
                raise MetadataError(file_path, f"the alias *{event.anchor} names no anchor", EXPECTED_YAML)
            add(expanded[event.anchor])


def _check_values(value, file_path: Path, where: str = "") -> None:
    """Refuse keys that are not text, text with NUL or lone surrogates, and values that are not plain data."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise MetadataError(
                    file_path, f"{where or 'the top level'} has the key {key!r}, which is not text", "text keys"
                )
            path = f"{where}/{printable(key)}" if where else printable(key)
            _check_text(key, file_path, path)
            _check_values(item, file_path, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, file_path, f"{where}[{index}]")
    elif isinstance(value, str):
        _check_text(value, file_path, where)
    elif not isinstance(value, PLAIN_SCALARS):
        raise MetadataError(
            file_path,
            f"{where or 'the document'} holds a {type(value).__name__} value",
            "text, numbers, booleans, dates, lists and mappings only",
        )


def _check_text(text: str, file_path: Path, where: str) -> None:
    if "\x00" in text:
        raise MetadataError(file_path, f"{where} holds a NUL character", "text without NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MetadataError(
            file_path, f"{where} holds a lone surrogate (a \\ud800-style escape)", "valid Unicode text"
        ) from None


def read_yaml_mapping(file_path: str | Path) -> dict:
    """Read a YAML file that must hold a mapping, with bounded size, depth and alias expansion.

    Raises
    ------
    MetadataError
        If the file is missing or unreadable, larger than :data:`MAX_YAML_BYTES`, not UTF-8 YAML, nests or expands
        beyond the bounds, holds anything but plain data, or does not hold a mapping at its top level.
    """
    file_path = Path(file_path)
    if not file_path.exists() and not file_path.is_symlink():
        raise MetadataError(file_path, "no such metadata file", "a YAML file")
    try:
        content = read_source_bytes(file_path, EXPECTED_YAML, max_bytes=MAX_YAML_BYTES)
        text = decode_utf8(content, file_path, f"{EXPECTED_YAML}, in UTF-8")
        _check_events(text, file_path)
        loader = _LoaderRefusingContradictions(text)
        loader.file_path = file_path
        try:
            content = loader.get_single_data()
        finally:
            loader.dispose()
    except MetadataError:
        raise
    except SourceFormatError as exc:  # unreadable, too large, not UTF-8: a metadata file's error
        raise MetadataError(exc.file, exc.problem, exc.expected) from None
    except Exception as exc:  # yaml.YAMLError, and ValueError for impossible dates such as 2017-02-30
        problem = f"not valid YAML ({type(exc).__name__}: {one_line(exc)[:300]})"
        raise MetadataError(file_path, problem, EXPECTED_YAML) from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise MetadataError(
            file_path,
            f"the YAML holds a {type(content).__name__}, not a mapping",
            "a YAML mapping with keys such as NWBFile and Subject",
        )
    _check_values(content, file_path)
    return content


def unknown_top_level_key_notes(
    metadata: dict, allowed_keys: Iterable[str], file_path: str | Path | None = None
) -> list[str]:
    """One note line per top-level key of ``metadata`` that is not among ``allowed_keys`` (e.g. the schema's
    top-level ``properties``), suggesting the closest known key; empty when every key is known.

    Such a key is ignored by the conversion, usually because of a typo (``Subjet:``), so the user must hear of it.
    """
    allowed = sorted(str(key) for key in allowed_keys)
    prefix = f"{file_path}: " if file_path is not None else ""
    notes = []
    for key in metadata:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(allowed)})"
        notes.append(f"{prefix}the top-level key '{printable(key)}' is not used by this conversion and was ignored{hint}")
    return notes
