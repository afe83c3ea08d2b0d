"""The review of an upload planned a part at a time (issue 18): the page shows what one part
shows, keeps only what it shows, and the send that follows does what the review said."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from importer.plan import Plan, PlannedRow
from importer.prepare import Prepared
from importer.web import WebSettings, create_app
from importer.web.review import Review, build_review
from importer.web.runs import REPORT_CSV, REPORT_XLSX
from importer.web.uploads import Upload
from tests.helpers import PAGE_URL, SAMPLES, env_for, live_events, reachable, read_report
from tests.test_parts import repeating_export
from tests.web.test_app import wait_for_run
from tests.web.test_choosing import held_rows_of, mappings, send_with  # noqa: F401 (fixture)
from tests.web.test_matching import TestClient, text_of, token_of, upload

SAMPLE = SAMPLES / "appointments.csv"  # 22 rows: 14 to create, 8 invalid
API_KEY = "web-review-parts-key-5d1e"
SHOWN = [f.name for f in fields(Review) if f.name != "tally"]  # what the page is made of


def settings_in(folder: Path, mappings_dir: Path, **changes: Any) -> WebSettings:
    values: dict[str, Any] = {
        "mappings_dir": mappings_dir,
        "ledger_path": folder / "state.sqlite",
        "runs_dir": folder / "runs",
        "environ": {},
    }
    return WebSettings(**{**values, **changes})


def review_of(source: Path, settings: WebSettings, mapping: str = "clinic.yaml") -> Review:
    return build_review(Upload("t" * 24, source.name, source, mapping), settings)


def shown(review: Review) -> dict[str, Any]:
    return {name: getattr(review, name) for name in SHOWN}


@pytest.mark.parametrize("part_rows", [1, 4, 7, 21])
@pytest.mark.parametrize("sent_with", [None, "clinic-copy.yaml"])
def test_a_review_in_parts_shows_what_a_review_in_one_part_shows(
    mappings: Path,  # noqa: F811 (fixture)
    sandbox: Any,
    tmp_path: Path,
    part_rows: int,
    sent_with: str | None,
) -> None:
    settings = settings_in(tmp_path, mappings, max_issue_rows=5, preview_events=3)
    if sent_with is not None:  # every row then looks already sent: held back, with its event
        send_with(mappings / sent_with, settings.ledger_path, sandbox)
    whole = review_of(SAMPLE, settings)
    parts = review_of(SAMPLE, settings_in(tmp_path, mappings, max_issue_rows=5, preview_events=3,
                                          part_rows=part_rows))  # fmt: skip
    assert whole.problem == "" and whole.tally is not None and len(whole.invalid_rows) == 5
    assert whole.more_invalid == 3 and len(whole.previews) == (0 if sent_with else 3)
    assert len(whole.held) == (5 if sent_with else 0)
    assert whole.more_held == (9 if sent_with else 0)
    assert shown(parts) == shown(whole)


def test_the_review_keeps_no_frame_and_no_payload(mappings: Path, tmp_path: Path) -> None:  # noqa: F811
    settings = settings_in(tmp_path, mappings, max_issue_rows=2, preview_events=2, part_rows=5)
    review = review_of(SAMPLE, settings)
    assert [c.number for c in review.counts[:4]] == [14, 0, 0, 8]
    held = reachable(review)
    kinds = (pd.DataFrame, pd.Series, Prepared, Plan, PlannedRow)
    assert [type(o).__name__ for o in held if isinstance(o, kinds)] == []
    payloads = [o for o in held if isinstance(o, dict) and "start_time" in o]
    assert payloads == []  # the first events are kept as the page shows them, nothing more
    assert {p.row for p in review.previews} == {2, 3}
    assert [r.row for r in review.invalid_rows] == [16, 17]


@pytest.fixture
def client(
    sandbox: Any,
    mappings: Path,  # noqa: F811 (fixture)
    tmp_path: Path,
) -> Iterator[TestClient]:
    sandbox.configure(api_key=API_KEY)
    settings = settings_in(
        tmp_path, mappings, part_rows=4, environ=env_for(sandbox, api_key=API_KEY)
    )
    with TestClient(base_url=PAGE_URL, app=create_app(settings)) as test_client:
        yield test_client


def count_on(page: str, key: str) -> int:
    found = re.search(rf'data-count="{key}">\s*<span class="number">(\d+)<', page)
    assert found is not None, key
    return int(found.group(1))


def test_a_send_in_parts_does_what_the_review_in_parts_said(
    client: TestClient,
    mappings: Path,  # noqa: F811 (fixture)
    sandbox: Any,
    tmp_path: Path,
) -> None:
    send_with(mappings / "clinic.yaml", tmp_path / "state.sqlite", sandbox)  # 14 events
    address = upload(client, SAMPLE, "clinic-copy.yaml")  # its rows look already sent
    page = client.get(address).text
    assert count_on(page, "held") == 14 and count_on(page, "invalid") == 8
    assert sorted(held_rows_of(page)) == list(range(2, 16))
    check = read_report_bytes(client.get(address + "/check.csv").content, tmp_path)
    assert [r["status"] for r in check].count("skip") == 14 and len(check) == 22
    form = {"csrf_token": token_of(client), "send_anyway": ["3", "11"]}  # rows of two parts
    answer = client.post(address + "/send", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    run_url = str(answer.headers["location"])
    wait_for_run(client, run_url)
    stored = live_events(sandbox)
    assert len(stored) == 16
    assert {"clinic-copy-000102", "clinic-copy-000110"} <= set(stored)
    folder = tmp_path / "runs" / run_url.rsplit("/", 1)[1]
    for report in (folder / REPORT_CSV, folder / REPORT_XLSX):  # every row, in both kinds
        lines = read_report(report)
        statuses = {int(r["row"]): r["status"] for r in lines}
        assert len(lines) == 22 and sorted(statuses) == list(range(2, 24))
        assert [statuses[3], statuses[11], statuses[2]] == ["created", "created", "skipped"]
        assert list(statuses.values()).count("invalid") == 8
    assert "Send anyway" not in text_of(client.get(run_url).text)


def read_report_bytes(content: bytes, folder: Path) -> list[dict[str, str]]:
    path = folder / "check.csv"
    path.write_bytes(content)
    return read_report(path)


def test_a_row_repeating_an_earlier_parts_visit_is_held_in_the_review_as_in_the_send(
    client: TestClient,
    sandbox: Any,
    tmp_path: Path,
) -> None:
    path = repeating_export(tmp_path / "export.csv")  # row 68: row 2's visit, parts below
    address = upload(client, path, "clinic.yaml")
    page = client.get(address).text
    assert count_on(page, "held") == 1 and count_on(page, "create") == 42
    assert list(held_rows_of(page)) == [68]
    answer = client.post(address + "/send", data={"csrf_token": token_of(client)})
    run_url = str(answer.url)
    wait_for_run(client, run_url)
    folder = tmp_path / "runs" / run_url.rsplit("/", 1)[1]
    statuses = {r["row"]: r["status"] for r in read_report(folder / REPORT_CSV)}
    assert (statuses["2"], statuses["68"]) == ("created", "skipped")
    assert len(live_events(sandbox)) == 42 and "clinic-000150" not in live_events(sandbox)
