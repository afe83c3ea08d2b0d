"""Issue 17: mapping files that exhaust memory, recurse or smuggle keys are refused, one by one.

Each case is a file a person (or a column header written into a file) could leave in the
mappings folder; each is a MappingError naming the file, never a crash, and never stops the
other mappings from loading.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from importer.errors import MappingError
from importer.mapping import load_mapping
from importer.mapping.yaml_text import MAX_DEPTH, MAX_MAPPING_BYTES, read_yaml
from importer.web import WebSettings, create_app
from tests.helpers import CLINIC_MAPPING, PAGE_URL

with warnings.catch_warnings():  # httpx (not httpx2) behind the TestClient: still works
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

CLINIC = CLINIC_MAPPING.read_text(encoding="utf-8")
LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9)
)
HOSTILE_MAPPINGS = {
    "alias bomb": (LAUGHS, "anchors and aliases"),
    "deep nesting": ("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
    "deep block nesting": ("".join(" " * i + f"k{i}:\n" for i in range(40)), "nested more than"),
    "huge size": ("# " + "x" * MAX_MAPPING_BYTES + "\n" + CLINIC, "larger than"),
    "duplicate key": (CLINIC + "name: Someone else\n", "'name' appears twice"),
    "merge key": ("base: {a: 1}\nevent:\n  <<: {title: x}\n", "merge"),
}


@pytest.mark.parametrize(("text", "said"), HOSTILE_MAPPINGS.values(), ids=HOSTILE_MAPPINGS)
def test_mapping_files_with_bombs_are_refused(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=said) as refused:
        load_mapping(path)
    assert refused.value.file == str(path)


def test_mapping_files_nested_as_deep_as_allowed_still_load() -> None:
    nested = "x: " + "[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1) + "\n"
    assert read_yaml(nested) is not None
    assert read_yaml(CLINIC)["name"] == "Clinic appointments"


def test_mapping_files_with_bombs_leave_the_home_page_working(tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    folder.mkdir()
    (folder / "clinic.yaml").write_text(CLINIC, encoding="utf-8")
    for n, (text, _) in enumerate(HOSTILE_MAPPINGS.values()):
        (folder / f"hostile-{n}.yaml").write_text(text, encoding="utf-8")
    settings = WebSettings(mappings_dir=folder, runs_dir=tmp_path / "runs", environ={})
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as client:
        answer = client.get("/")
    assert answer.status_code == 200
    assert "Clinic appointments (clinic.yaml)" in answer.text
    assert "hostile-0.yaml (has problems" in answer.text
