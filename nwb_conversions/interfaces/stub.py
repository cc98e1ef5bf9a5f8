"""The ``--stub`` window: the first few seconds of every stream, for a quick look at a conversion."""

from __future__ import annotations

#: Seconds of data written by ``stub_test``.
STUB_SECONDS = 2.0


def first_seconds(samples, sampling_frequency: float, *, stub_test: bool):
    """Return the first :data:`STUB_SECONDS` of ``samples`` with ``stub_test``, else all of them.

    A lazy reader (anything with ``head``, e.g. ``InterleavedBinary``) stays lazy; an array is sliced.
    """
    if not stub_test:
        return samples
    count = int(STUB_SECONDS * sampling_frequency)
    return samples.head(count) if hasattr(samples, "head") else samples[:count]
