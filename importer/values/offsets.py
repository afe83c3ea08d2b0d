"""Wall-clock times placed in each row's time zone: UTC offsets, daylight saving, ISO text.

The other half of :mod:`importer.values.dates`: that module reads text into wall-clock times,
this one gives each its offset in the row's IANA zone (``2026-07-01 09:00`` in Los Angeles is
``-07:00``), says in words why a time cannot be placed (skipped by spring-forward, or doubled by
fall-back while :class:`DstPolicy` is ``reject``), and writes the pair as the API wants it.
"""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from importer.values.dates import SPAN, WALL


class DstPolicy(enum.StrEnum):
    """What to do with a local time that occurs twice (the fall-back hour)."""

    REJECT = "reject"  # the row is invalid: a wrong hour is worse than no reminder
    EARLIER = "earlier"  # the first occurrence (still daylight time)
    LATER = "later"  # the second occurrence (standard time)


def _hm(moment: dt.datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def format_offset(offset: dt.timedelta) -> str:
    """``-7 hours`` -> ``"-07:00"``."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _clock_change(wall: dt.datetime, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """Wall clock just before and just after the change that makes ``wall`` skipped or doubled."""
    before = wall.replace(tzinfo=zone, fold=0).utcoffset()
    after = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert before is not None and after is not None
    moment = wall
    # Walk to the first minute after the odd stretch (at most a day: Samoa skipped one in 2011).
    for _ in range(25 * 60):
        if (
            moment.replace(tzinfo=zone, fold=0).utcoffset()
            == moment.replace(tzinfo=zone, fold=1).utcoffset()
        ):
            break
        moment += dt.timedelta(minutes=1)
    if after > before:  # spring forward: moment is the first wall time after the gap
        return moment - (after - before), moment
    return moment, moment - (before - after)


def dst_problem(wall: pd.Timestamp, zone_name: str) -> str:
    """Why a local time cannot be placed in a zone: it is skipped, or it happens twice."""
    zone = zoneinfo.ZoneInfo(zone_name)
    local = wall.to_pydatetime().replace(second=0, microsecond=0)
    earlier = local.replace(tzinfo=zone, fold=0).utcoffset()
    later = local.replace(tzinfo=zone, fold=1).utcoffset()
    assert earlier is not None and later is not None
    start, end = _clock_change(local, zone)
    if later > earlier:
        return (
            f"does not exist in {zone_name}: clocks skip from {_hm(start)} to {_hm(end)} "
            f"on {end.date().isoformat()}"
        )
    return (
        f"happens twice in {zone_name}: clocks go back from {_hm(start)} to {_hm(end)} "
        f"on {end.date().isoformat()}, so the time could be the first one "
        f"({format_offset(earlier)}) or the second ({format_offset(later)}); check the time, "
        "or ask whoever set up the import to choose which one such times mean"
    )


def localise(
    wall: pd.Series, zones: pd.Series, dst: DstPolicy, *, start_of_day: bool = False
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Place wall-clock times in each row's IANA zone, one ``tz_localize`` per zone.

    Returns ``(wall, offset, reason)``. A time the clocks skip, or one that happens twice while
    ``dst`` is ``reject``, gets NaT and a reason in words. With ``start_of_day`` (all-day events)
    the wall times are midnights and the day starts at its first instant instead: a skipped
    midnight moves to the end of the gap, a doubled one takes its first occurrence. Rows with NaT
    or a blank zone are left NaT with no reason (their problem is reported where it arises).
    """
    wall = wall.astype(WALL)
    out_wall = wall.to_numpy().copy()
    offset = np.full(len(wall), np.timedelta64("NaT"), dtype=SPAN)
    reason = np.full(len(wall), "", dtype=object)
    for zone, rows in _rows_by_zone(wall, zones).items():
        # An index, not a Series: the same tz_localize at about half the fixed cost per zone,
        # which a file read 25,000 rows at a time pays in every part.
        part = pd.DatetimeIndex(out_wall[rows])
        ambiguous: Literal["NaT"] | npt.NDArray[np.bool_]
        if start_of_day:
            ambiguous = np.full(len(part), True)  # True: the first occurrence
        elif dst is DstPolicy.REJECT:
            ambiguous = "NaT"
        else:
            ambiguous = np.full(len(part), dst is DstPolicy.EARLIER)
        placed = part.tz_localize(
            zone, ambiguous=ambiguous, nonexistent="shift_forward" if start_of_day else "NaT"
        )
        utc = placed.tz_convert("UTC").tz_localize(None).to_numpy().astype(WALL)
        local = placed.tz_localize(None).to_numpy().astype(WALL)
        out_wall[rows] = local
        offset[rows] = local - utc
        for i in np.flatnonzero(placed.isna()).tolist():
            reason[rows[i]] = dst_problem(part[i], zone)
    index = wall.index
    return (
        pd.Series(out_wall, index=index, dtype=WALL),
        pd.Series(offset, index=index, dtype=SPAN),
        pd.Series(reason, index=index, dtype="str"),
    )


def _rows_by_zone(moments: pd.Series, zones: pd.Series) -> dict[str, np.ndarray]:
    """Positions of the rows with a time and a zone, grouped by zone."""
    positions = np.flatnonzero((moments.notna() & (zones != "")).to_numpy())
    keys = zones.to_numpy()[positions]
    groups = pd.Series(positions).groupby(keys).indices
    return {str(zone): positions[picks] for zone, picks in groups.items()}


def in_zone(utc: pd.Series, zones: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Wall clock and offset, in each row's zone, of UTC instants (e.g. start + duration)."""
    wall = np.full(len(utc), np.datetime64("NaT"), dtype=WALL)
    for zone, rows in _rows_by_zone(utc, zones).items():
        part = pd.Series(utc.to_numpy()[rows], dtype=WALL).dt.tz_localize("UTC")
        wall[rows] = part.dt.tz_convert(zone).dt.tz_localize(None).astype(WALL).to_numpy()
    local = pd.Series(wall, index=utc.index, dtype=WALL)
    return local, (local - utc.astype(WALL)).astype(SPAN)


def utc_instants(wall: pd.Series, offset: pd.Series) -> pd.Series:
    """The UTC instants :func:`format_iso` writes: the wall clock less the offset in the whole
    minutes the text shows (UTC timestamps; NaT where the text is "").

    Worked out from the numbers, not read back from the text (~6 ms per 25,000 rows).
    """
    minutes = offset.astype(SPAN).to_numpy().astype("timedelta64[m]")
    utc = wall.astype(WALL).to_numpy() - minutes
    return pd.Series(utc, index=wall.index, dtype=WALL).dt.tz_localize("UTC")


def format_iso(wall: pd.Series, offset: pd.Series) -> pd.Series:
    """ISO 8601 with the offset and a colon in it, ``2026-07-01T09:00:00-07:00``; "" for NaT.

    Each distinct (wall clock, offset) pair is formatted once and its text shared by the rows
    that have it: appointments repeat their slots, and a string per row cost time and memory
    (150 MB for the starts and ends of 1,000,000 rows).
    """
    usable = (wall.notna() & offset.notna()).to_numpy()
    walls = wall.astype(WALL).to_numpy()
    minutes = offset.astype(SPAN).to_numpy().astype("timedelta64[m]").view(np.int64)
    wall_codes, _ = pd.factorize(walls.view(np.int64))
    offset_codes, offsets = pd.factorize(minutes)
    codes, pairs = pd.factorize(wall_codes.astype(np.int64) * len(offsets) + offset_codes)
    first = np.empty(len(pairs), dtype=np.int64)  # a row holding each pair
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    # The day and the time of day written once each and joined per pair: numpy's writing of a
    # whole datetime per pair cost ~40% more (pairs are nearly one per row in a big part).
    picked = walls[first]
    days = picked.astype("datetime64[D]")
    day_codes, day_numbers = pd.factorize(days.view(np.int64))
    second_codes, seconds = pd.factorize((picked - days).view(np.int64))
    day_text = np.datetime_as_string(day_numbers.view("datetime64[D]"), unit="D").tolist()
    midnight = np.datetime64("1970-01-01T00:00:00", "s")
    time_text = [
        text[10:]  # "THH:MM:SS"
        for text in np.datetime_as_string(midnight + seconds.view("timedelta64[s]"), unit="s")
    ]
    words = {m: format_offset(dt.timedelta(minutes=m)) for m in pd.unique(minutes[usable]).tolist()}
    texts = [
        day_text[d] + time_text[t] + words[m] if ok else ""
        for d, t, m, ok in zip(
            day_codes.tolist(),
            second_codes.tolist(),
            minutes[first].tolist(),
            usable[first].tolist(),
            strict=True,
        )
    ]
    return pd.Series(np.array(texts, dtype=object)[codes], index=wall.index, dtype="str")
