"""The fuzzing harness: damage a valid source in many small ways, feed each result to its reader, and require that
only a one-line :class:`~nwb_conversions.errors.SourceFormatError` ever escapes, within bounded time.

Hypothesis draws a mutation kind and a seed per example; each example then feeds :data:`INPUTS_PER_EXAMPLE` inputs
made from that seed (hypothesis' own overhead per example is larger than most of these reads), so a failure is
reported with the kind and seed that reproduce it. ``FUZZ_SCALE`` (an environment variable, default 1) multiplies
the number of examples for a longer campaign: ``FUZZ_SCALE=20 pytest tests/fuzz``.
"""

from __future__ import annotations

import os
import random
import resource
import time
import warnings
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nwb_conversions.errors import SourceFormatError

#: Inputs fed per hypothesis example.
INPUTS_PER_EXAMPLE = 10

#: Longest a single read may take, in seconds (generous: the machine running the tests may be busy).
MAX_SECONDS_PER_READ = 2.0

#: Interesting bytes to write over the input: NUL, high bit, delimiters, digits, letters of numbers.
INTERESTING_BYTES = b"\x00\xff\x7f\x80\x01\n\r\t \",:;'[]{}()=-+.eE0159&*!%@#|>\\"

FUZZ_SCALE = float(os.environ.get("FUZZ_SCALE", "1"))

MUTATIONS = ("flip", "overwrite", "truncate", "insert", "delete", "duplicate", "splice", "several")


def mutate(rng: random.Random, base: bytes, kind: str) -> bytes:
    """One damaged copy of ``base``: bit flips, overwritten bytes, a truncation, an insertion, a deletion, a
    duplicated or spliced slice, or several of these."""
    data = bytearray(base)
    if kind == "several":
        for _ in range(rng.randint(2, 5)):
            data = bytearray(mutate(rng, bytes(data), rng.choice(MUTATIONS[:-1])))
        return bytes(data)
    if not data:
        return bytes(rng.choices(INTERESTING_BYTES, k=rng.randint(0, 16)))
    position = rng.randrange(len(data))
    if kind == "flip":
        for _ in range(rng.randint(1, 8)):
            index = rng.randrange(len(data))
            data[index] ^= 1 << rng.randrange(8)
    elif kind == "overwrite":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.choice(INTERESTING_BYTES)
    elif kind == "truncate":
        del data[position:]
    elif kind == "insert":
        length = rng.choice((1, 2, 8, 64, 4096))
        data[position:position] = bytes(rng.choices(INTERESTING_BYTES, k=length))
    elif kind == "delete":
        del data[position : position + rng.choice((1, 4, 64, 1024))]
    elif kind == "duplicate":
        length = rng.choice((1, 16, 256, 4096))
        data[position:position] = data[position : position + length] * rng.choice((1, 2, 16))
    elif kind == "splice":
        source = rng.randrange(len(data))
        length = rng.choice((2, 8, 64))
        data[position : position + length] = data[source : source + length]
    return bytes(data)


def write_input(path: Path, data: bytes) -> None:
    """Replace the content of ``path`` with ``data`` without truncating it to zero first (on ext4 every
    truncate-then-close forces a disk flush, which would make each input cost milliseconds)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, data)
        os.ftruncate(descriptor, len(data))
    finally:
        os.close(descriptor)


def rezip(archive_bytes: bytes, member: str, transform: Callable[[bytes], bytes]) -> bytes:
    """The zip ``archive_bytes`` with ``member`` replaced by ``transform(member's bytes)``: a valid package whose
    content is damaged (byte mutations of the zip itself mostly stop at its checksums)."""
    source = zipfile.ZipFile(BytesIO(archive_bytes))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, transform(content) if info.filename == member else content)
    return buffer.getvalue()


def check_read(reader: Callable[[Path], object], path: Path, accepted: Callable[[object], None] | None = None):
    """Call ``reader(path)``: it returns (then ``accepted`` checks the result) or raises a one-line
    SourceFormatError naming ``path``; anything else propagates and fails the test."""
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = reader(path)
    except SourceFormatError as error:
        message = str(error)
        assert "\n" not in message and "\r" not in message, message
        assert message.startswith(f"{path}: "), message
        result = None
    else:
        if accepted is not None:
            accepted(result)
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_SECONDS_PER_READ, f"a read took {elapsed:.2f} s"
    return result


#: Address space a fuzzing run may add to what the process already maps (its libraries, its threads' stacks).
FUZZ_ADDRESS_SPACE_BYTES = 4 << 30


def _mapped_bytes() -> int:
    """This process's virtual size (``VmSize``), or 0 where ``/proc`` does not tell."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@contextmanager
def address_space_capped(extra_bytes: int = FUZZ_ADDRESS_SPACE_BYTES):
    """Within the block, allocations beyond the process's current size + ``extra_bytes`` fail (``RLIMIT_AS``).

    A damaged file can make a C library (HDF5) ask for gigabytes from a size field; the kernel's overcommit grants
    them and the first pages written bring the out-of-memory killer, which ends the whole test run. Under the cap the
    allocation fails, the library reports an error, and the reader must turn it into one line like any other.
    """
    mapped = _mapped_bytes()
    if not mapped:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = mapped + extra_bytes if hard == resource.RLIM_INFINITY else min(mapped + extra_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def fuzz(num_inputs: int, strategy, feed: Callable[..., int]) -> int:
    """Run ``feed`` on hypothesis examples of ``strategy`` until about ``num_inputs`` inputs were read, with the
    address space capped (:func:`address_space_capped`).

    ``feed(example)`` reads :data:`INPUTS_PER_EXAMPLE` inputs and returns how many it read. Returns the total, which
    the caller asserts, so the input count is checked rather than assumed.
    """
    count = 0
    examples = max(1, round(num_inputs * FUZZ_SCALE / INPUTS_PER_EXAMPLE))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(strategy)
    def run(example):
        nonlocal count
        count += feed(example)

    with address_space_capped():
        run()
    return count


def mutation_examples():
    """A mutation kind and a seed for a batch of damaged inputs."""
    return st.tuples(st.sampled_from(MUTATIONS), st.integers(0, 2**63 - 1))


def fuzz_bytes(path: Path, base: bytes, reader, num_inputs: int, *, accepted=None, transform=None) -> int:
    """Fuzz ``reader`` with byte mutations of ``base`` (or of what ``transform`` produces from a mutation)."""

    def feed(example) -> int:
        kind, seed = example
        rng = random.Random(seed)
        for _ in range(INPUTS_PER_EXAMPLE):
            damaged = transform(lambda content: mutate(rng, content, kind)) if transform else mutate(rng, base, kind)
            write_input(path, damaged)
            check_read(reader, path, accepted)
        return INPUTS_PER_EXAMPLE

    return fuzz(num_inputs, mutation_examples(), feed)


def fuzz_generated(path: Path, generate: Callable[[random.Random], bytes], reader, num_inputs: int, *,
                   accepted=None) -> int:
    """Fuzz ``reader`` with structured-but-wrong files: ``generate(rng)`` builds each one's bytes."""

    def feed(seed) -> int:
        rng = random.Random(seed)
        for _ in range(INPUTS_PER_EXAMPLE):
            write_input(path, generate(rng))
            check_read(reader, path, accepted)
        return INPUTS_PER_EXAMPLE

    return fuzz(num_inputs, st.integers(0, 2**63 - 1), feed)


def random_number_text(rng: random.Random) -> str:
    """A number, or something almost like one, as a source might write it."""
    choices = (
        lambda: str(rng.randint(-(2**70), 2**70)),
        lambda: str(rng.choice((0, 1, -1, 2, 32, 384, 1024, 32768, 65536, 2**31, 2**32, 2**63))),
        lambda: repr(rng.uniform(-1e6, 1e6)),
        lambda: f"{rng.uniform(0, 10):.3g}e{rng.randint(-320, 320)}",
        lambda: rng.choice(("nan", "inf", "-inf", "NaN", "1e999", "-0", "0x10", "1_000", "30 000", "", " ", "½")),
        lambda: "9" * rng.randint(1, 6000),
        lambda: rng.choice(("thirty", "np.uint16", "[1]", "(1,)", "None", "True", "'1'")),
    )
    return rng.choice(choices)()
