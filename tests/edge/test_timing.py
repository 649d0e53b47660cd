"""Pure timing rules: debounce of held / repeated badges, retry backoff, clock checks."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge.clock import CachedSyncCheck, WallClock, make_sync_check, timesyncd_synced
from edge.timing import Backoff, Debouncer


def test_a_badge_held_on_the_reader_is_one_tap() -> None:
    debouncer = Debouncer(window_s=5.0)
    sightings = [100.0 + 0.25 * i for i in range(80)]  # held for 20 s

    taps = [at for at in sightings if debouncer.seen("04a1b2c3d4e5f6", at)]

    assert taps == [100.0]


def test_a_held_badge_leaving_after_a_slow_presence_check_is_not_a_new_tap() -> None:
    debouncer = Debouncer(window_s=0.5)
    assert debouncer.seen("aabbccdd", 1.0)
    assert not debouncer.seen("aabbccdd", 1.3, arriving=False)
    assert not debouncer.seen("aabbccdd", 2.0, arriving=False)  # 0.7 s later, leaving
    assert debouncer.seen("aabbccdd", 2.6)


def test_a_badge_tapped_again_within_the_window_counts_once() -> None:
    debouncer = Debouncer(window_s=5.0)
    assert debouncer.seen("aabbccdd", 10.0)
    assert not debouncer.seen("aabbccdd", 14.9)
    assert not debouncer.seen("aabbccdd", 19.8)  # the window slides with each sighting
    assert debouncer.seen("aabbccdd", 24.8)


def test_different_badges_are_independent() -> None:
    debouncer = Debouncer(window_s=5.0)
    assert debouncer.seen("aabbccdd", 1.0)
    assert debouncer.seen("11223344", 1.1)
    assert not debouncer.seen("aabbccdd", 1.2)


def test_the_debouncer_forgets_old_badges_but_not_recent_ones() -> None:
    debouncer = Debouncer(window_s=5.0, max_badges=10)
    for i in range(50):
        debouncer.seen(f"{i:08x}", float(i))
    assert len(debouncer._last_seen) <= 10
    assert not debouncer.seen(f"{49:08x}", 50.0)


@given(
    min_s=st.floats(0.01, 10),
    span=st.floats(1, 100),
    failures=st.integers(1, 200),
    rand=st.floats(0, 1),
)
def test_backoff_stays_between_its_bounds(
    min_s: float, span: float, failures: int, rand: float
) -> None:
    backoff = Backoff(min_s=min_s, max_s=min_s * span, rand=lambda: rand)
    delays = [backoff.next_delay() for _ in range(failures)]
    assert all(min_s * 0.9 - 1e-9 <= d <= min_s * span + 1e-9 for d in delays)


def test_backoff_doubles_then_caps_and_resets() -> None:
    backoff = Backoff(min_s=1, max_s=10, jitter=0)
    assert [backoff.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.next_delay() == 1


def test_backoff_refuses_nonsense_bounds() -> None:
    with pytest.raises(ValueError):
        Backoff(min_s=5, max_s=1)


def test_wall_clock_uses_the_paris_offset() -> None:
    now = WallClock("Europe/Paris").now()
    assert now.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert WallClock("UTC").now().utcoffset() == timedelta(0)


def test_the_sync_check_is_cached_with_an_injected_clock() -> None:
    answers = iter([False, True])
    now = [0.0]
    check = CachedSyncCheck(lambda: next(answers), every_s=10, monotonic=lambda: now[0])
    assert check() is False
    now[0] = 9.9
    assert check() is False
    now[0] = 10.0
    assert check() is True


def test_timesyncd_flag_file(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    assert not timesyncd_synced(flag)
    flag.touch()
    assert timesyncd_synced(flag)


def test_sync_check_modes() -> None:
    assert make_sync_check("assume-synced")() is True
    assert make_sync_check("adjtimex")() in (True, False)  # the real kernel answers
    with pytest.raises(ValueError):
        make_sync_check("sometimes")
