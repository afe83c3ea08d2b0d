"""Saving a mapping made on the page into the mappings folder, under a name that is safe.

The file name is a slug of the mapping's name (``Front desk`` -> ``front-desk.yaml``): letters
a-z, digits and dashes only, so whatever is typed, the file lands in the mappings folder and
nowhere else. A file of that name holding a different mapping is replaced only when the person
has said so; one holding the same mapping is left as it is.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from importer.assist import Proposal, slug
from importer.errors import ImporterError, MappingError
from importer.files import atomic_write_text
from importer.mapping import Mapping, load_mapping

MAX_NAME_CHARACTERS = 80
MAX_SLUG_CHARACTERS = 60
MAPPING_SUFFIX = ".yaml"


class SaveRefused(Exception):
    """The mapping was not saved; the message says why, for the page."""


@dataclass(frozen=True)
class Existing:
    """A mapping file already in the folder under the name a new mapping would get."""

    file: str
    title: str  # its mapping's name, or the file name when it cannot be read
    same: bool  # it holds the same mapping: saving changes nothing


def mapping_file_name(name: str) -> str:
    """``"Front desk (Mon)"`` -> ``"front-desk-mon.yaml"``; SaveRefused when nothing is left.

    Accents are dropped (``Gómez`` -> ``gomez``), every other character that is not a-z or 0-9
    becomes a dash, and the result is at most 60 characters: never a path, never hidden.
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = slug(plain)[:MAX_SLUG_CHARACTERS].strip("-")
    if not stem:
        raise SaveRefused(
            "Give the mapping a name with some letters a-z or digits: the file it is saved in "
            "is named after it."
        )
    return stem + MAPPING_SUFFIX


def _comparable(mapping: Mapping) -> Mapping:
    return dataclasses.replace(mapping, path=None)


def existing_mapping(folder: Path, file: str, mapping: Mapping | None) -> Existing | None:
    """What the folder already holds under ``file``; None when nothing."""
    target = folder / file
    if not (target.exists() or target.is_symlink()):
        return None
    try:
        found = load_mapping(target)
    except MappingError:
        return Existing(file, file, same=False)
    same = mapping is not None and _comparable(found) == _comparable(mapping)
    return Existing(file, found.name, same=same)


def save_mapping(folder: Path, proposal: Proposal, *, replace: bool = False) -> str:
    """Write ``proposal`` into ``folder`` as a commented mapping file; returns its file name.

    Raises MappingError when the proposal still needs a choice, SaveRefused when the name has no
    usable characters, when a different mapping has that file name and ``replace`` is False, or
    when the file cannot be written.
    """
    mapping = proposal.to_mapping()
    file = mapping_file_name(proposal.name)
    target = folder / file
    if target.parent != folder or target.name != file:  # a slug never is a path; make sure
        raise SaveRefused(f"{file!r} cannot be used as a file name")
    found = existing_mapping(folder, file, mapping)
    if found is not None and found.same:
        return file
    if found is not None and not replace:
        raise SaveRefused(
            f"The mappings folder already has a different mapping in {file} "
            f"(“{found.title}”). Give this one another name, or tick “Replace” to overwrite it."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, proposal.to_yaml())
    except (ImporterError, OSError) as exc:
        raise SaveRefused(f"The mapping could not be saved: {exc}") from exc
    return file
