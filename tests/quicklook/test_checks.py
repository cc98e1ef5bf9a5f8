"""The content checks on their own: a ragged column's index against its values, times, dtypes and bounded reads,
over many generated inputs (hypothesis): every input is either accepted with consistent row bounds or refused as
:class:`~nwb_conversions.quicklook.checks.MalformedContent`, never another error."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nwb_conversions.quicklook.checks import (
    MAX_TIME_S,
    MAX_VALUES_READ,
    MalformedContent,
    PanelNote,
    bounded,
    describe_dtype,
    read_whole,
    require_times,
)
from nwb_conversions.quicklook.tables import ragged_column

#: Generated examples per test (the ragged test checks four inputs per example: 10^4 in all).
EXAMPLES = 2_500


class Stored:
    """A stored array as hdmf hands it over: sliceable, with a dtype, a shape and a path."""

    def __init__(self, values: np.ndarray, name: str):
        self.values, self.name = values, name
        self.dtype, self.shape = values.dtype, values.shape

    def __len__(self):
        return len(self.values)

    def __getitem__(self, selection):
        return self.values[selection]


class Index:
    def __init__(self, stops: np.ndarray, values: np.ndarray):
        self.data = Stored(stops, "/units/spike_times_index")
        self.target = type("Target", (), {"data": Stored(values, "/units/spike_times")})()


class Table:
    def __init__(self, stops, values):
        self.index = Index(np.asarray(stops), np.asarray(values))
        self.id = type("Id", (), {"data": Stored(np.arange(len(stops)), "/units/id")})()

    def __getitem__(self, name):
        return self.index


def ragged_outcome(stops, values) -> tuple[str, object]:
    try:
        return "accepted", ragged_column(Table(stops, values), "spike_times")[1]
    except MalformedContent as error:
        return "refused", str(error)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.integers(-3, 40), max_size=12), st.integers(0, 40), st.sampled_from(["<i8", "<u2", "<f8", "|S2"]))
def test_a_ragged_index_is_accepted_only_when_it_agrees_with_its_values(stops, length, dtype):
    for candidate in (stops, stops[::-1], sorted(stops), sorted(abs(stop) for stop in stops)):
        index = np.asarray(candidate, dtype=np.int64).astype(dtype)
        outcome, detail = ragged_outcome(index, np.zeros(length))
        valid = dtype in ("<i8", "<u2") and np.array_equal(np.asarray(candidate), index.astype(np.int64)) and \
            all(b >= a for a, b in zip([0] + list(candidate), candidate)) and \
            (candidate[-1] if candidate else 0) == length
        assert (outcome == "accepted") == valid, (candidate, length, dtype, detail)
        if valid:
            np.testing.assert_array_equal(detail[:, 1], candidate)
            np.testing.assert_array_equal(detail[:, 0], ([0] + list(candidate))[: len(candidate)])
        elif outcome == "refused":
            assert detail.startswith("/units/spike_times_index ") and "; expected " in detail


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=8))
def test_times_are_finite_and_within_reach(values):
    values = np.asarray(values, dtype=float)
    bad = ~np.isfinite(values) | (np.abs(values) > MAX_TIME_S)
    if bad.any():
        with pytest.raises(MalformedContent, match=r"^/units/spike_times holds the time "):
            require_times(values, "/units/spike_times")
    else:
        np.testing.assert_array_equal(require_times(values, "/units/spike_times"), values)


def test_a_read_beyond_the_bound_is_a_note_and_reads_nothing():
    bounded(MAX_VALUES_READ, "/x")
    with pytest.raises(PanelNote, match=f"/x would read {MAX_VALUES_READ + 1:,} values"):
        bounded(MAX_VALUES_READ + 1, "/x")


@pytest.mark.parametrize("values, words", [
    (np.array([b"a"]), "text (dtype |S1)"),
    (np.array(["a"]), "text (dtype <U1)"),
    (np.array([np.void(b"\x80\x05")]), "opaque bytes (dtype |V2)"),
    (np.zeros(1, dtype=[("x", "<u4")]), "records (dtype [('x', '<u4')])"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "dates (dtype datetime64[D])"),
])
def test_values_that_are_not_numbers_are_named(values, words):
    assert describe_dtype(values.dtype) == words
    with pytest.raises(MalformedContent) as refused:
        read_whole(Stored(values, "/acquisition/x/data"), "/fallback")
    assert str(refused.value) == f"/acquisition/x/data holds {words}; expected numbers"
