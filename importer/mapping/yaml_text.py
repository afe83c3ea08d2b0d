"""Mapping files read as plain data, and nothing more: the one YAML loader of the importer.

A mapping is a small tree of text. Anything else a YAML file can hold is refused before it is
built, so a file written by someone else (or a column header that slipped into a file) cannot
change what the mapping means or exhaust the computer: duplicate keys (YAML lets the last one
win silently), anchors and aliases (the "billion laughs"), merge keys, nesting deeper than a
mapping ever needs, and files larger than any mapping is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from importer.errors import MappingError

MAX_MAPPING_BYTES = 1024 * 1024  # a large mapping is a few KB
MAX_DEPTH = 16  # a mapping nests 4 levels (event > participants > one > name)
MAX_NODES = 50_000  # values, keys, lists and sections together


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and leaves ``<<`` as an ordinary (unknown) key."""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        return None  # no merge keys: "<<" stays a key, which the mapping refuses as unknown

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} appears twice", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _check_shape(text: str) -> None:
    """Refuse anchors, aliases, deep nesting and too many nodes, before anything is built."""
    depth = nodes = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _refusal(event, "anchors and aliases (& and *) are not allowed")
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _refusal(event, f"nested more than {MAX_DEPTH} levels deep")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
        if isinstance(event, yaml.NodeEvent | yaml.CollectionStartEvent):
            nodes += 1
            if nodes > MAX_NODES:
                raise _refusal(event, f"more than {MAX_NODES:,} values")


class _ShapeRefused(Exception):
    """The file holds something a mapping never does; the message says what and where."""


def _refusal(event: yaml.Event, what: str) -> _ShapeRefused:
    mark = event.start_mark
    return _ShapeRefused(f"{what} (line {mark.line + 1})" if mark else what)


def read_yaml(text: str, *, file: str | None = None) -> Any:
    """The plain data (dicts, lists, text, numbers) of a mapping file's ``text``.

    Raises MappingError naming ``file`` for invalid YAML, a duplicate key, an anchor or alias,
    nesting deeper than 16 levels, more than 50,000 values, or more than 1 MB of text.
    """
    if len(text) > MAX_MAPPING_BYTES:
        raise MappingError(
            f"the file is larger than {MAX_MAPPING_BYTES // 1024} KB; a mapping is a few KB",
            file=file,
        )
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
    except _ShapeRefused as exc:
        raise MappingError(f"not a plain mapping file: {exc}", file=file) from None
    except yaml.YAMLError as exc:
        raise MappingError(f"not valid YAML: {exc}", file=file) from exc


def read_mapping_file(path: str | Path) -> Any:
    """:func:`read_yaml` of the mapping file at ``path``; MappingError when it cannot be read."""
    file = str(path)
    try:
        with Path(path).open(encoding="utf-8-sig") as opened:
            text = opened.read(MAX_MAPPING_BYTES + 1)  # never more than a mapping can be
    except OSError as exc:
        raise MappingError(f"cannot read the mapping file: {exc.strerror}", file=file) from exc
    except UnicodeDecodeError as exc:
        raise MappingError(f"not UTF-8 text: {exc.reason}", file=file) from exc
    return read_yaml(text, file=file)


def named_sheet(path: str | Path) -> str | None:
    """The one sheet the mapping file at ``path`` names (``sheet:``), read without checking the
    rest of it (:func:`importer.mapping.load_mapping` does): None when it names none, or the file
    cannot be read. A hint for reading ahead (:mod:`importer.load.read_ahead`), never a choice."""
    try:
        data = read_mapping_file(path)
    except MappingError:
        return None
    sheet = data.get("sheet") if isinstance(data, dict) else None
    return sheet if isinstance(sheet, str) else None
