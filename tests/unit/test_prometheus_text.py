"""The hand-written Prometheus text format (0.0.4) read back by prometheus_client's own
parser, and the rules it enforces on names."""

from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.prometheus_text import Family, render


def test_what_is_written_is_read_back_with_escaped_labels_and_help() -> None:
    taps = Family("campus_taps_stored_total", "counter", 'Taps "stored".\nBy process \\ host.')
    taps.add(3, process='vm:1:a"b', note="line\nfeed \\ slash")
    taps.add(12, process="vm:2:c", note="")
    lag = Family("campus_lag_seconds", "gauge", "Lag.")
    lag.add(0.25)
    lag.add(math.inf, kind="inf")
    lag.add(None, kind="unknown")  # not known: no sample
    body = render([taps, lag])
    assert body.endswith("\n")
    families = {family.name: family for family in text_string_to_metric_families(body)}
    stored = families["campus_taps_stored"]  # the parser names a counter without _total
    assert stored.type == "counter"
    assert stored.documentation == 'Taps "stored".\nBy process \\ host.'
    assert [(s.name, s.labels, s.value) for s in stored.samples] == [
        ("campus_taps_stored_total", {"process": 'vm:1:a"b', "note": "line\nfeed \\ slash"}, 3),
        ("campus_taps_stored_total", {"process": "vm:2:c", "note": ""}, 12),
    ]
    assert [(s.labels, s.value) for s in families["campus_lag_seconds"].samples] == [
        ({}, 0.25),
        ({"kind": "inf"}, math.inf),
    ]
    assert "campus_lag_seconds 0.25\n" in body
    assert 'campus_taps_stored_total{process="vm:2:c",note=""} 12\n' in body


def test_names_and_types_are_checked() -> None:
    with pytest.raises(ValueError, match="metric name"):
        Family("2taps", "gauge", "")
    with pytest.raises(ValueError, match="type"):
        Family("taps", "histogramme", "")
    with pytest.raises(ValueError, match="_total"):
        Family("taps", "counter", "")
    family = Family("taps", "gauge", "")
    with pytest.raises(ValueError, match="label name"):
        family.add(1, **{"__reserved": "x"})
    with pytest.raises(ValueError, match="twice"):
        render([Family("taps", "gauge", ""), Family("taps", "gauge", "")])
