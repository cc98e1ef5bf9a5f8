"""Summarize a py-spy profile of a whole ``convert-to-nwb`` run: seconds per thread and per stage of the writer.

Usage::

    py-spy record -r 40 --threads -f raw -o convert.raw -- convert-to-nwb spe1 CELL OUT.nwb --no-inspect
    python benchmarks/profile_stages.py convert.raw [--rate 40]

py-spy counts a thread whenever it is not idle in a known wait, so on a loaded machine a thread that is ready to run
but waits for a core is counted too: compare stages within one profile, not seconds across machines.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

#: (stage, substrings of a stack that put a sample in it), first match wins.
STAGES = (
    ("imports", ("_find_and_load",)),
    ("read the source (readinto / fromfile)", ("_read_frames_into", "readinto", "fromfile", "InterleavedBinary.read")),
    ("deflate (ISA-L, libdeflate, zlib)", ("compress", "deflate_blocks", "open_blocks")),
    ("byte shuffle", ("byte_shuffle",)),
    ("wait for a chunk / a row / a buffer", ("Condition.wait", "Queue.get", "Future.result", "Event.wait")),
    ("write_direct_chunk", ("write_direct_chunk", "_write_oldest")),
    ("encode (other)", ("ChunkEncoder.encode",)),
    ("small datasets' backend configuration", ("configure_small_datasets",)),
    ("pynwb writes the structure", ("HDF5IO.write", "write_builder")),
    ("build the converter, read tables", ("build_conversion", "create_nwbfile", "get_metadata")),
)


def summarize(raw_profile: Path, rate: float) -> tuple[Counter, Counter]:
    """Return (seconds per thread name, seconds per stage) from py-spy's raw (collapsed stack) output."""
    threads, stages = Counter(), Counter()
    for line in raw_profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        seconds = int(count) / rate
        frames = stack.split(";")
        threads[re.sub(r"\s*\(0x[0-9a-f]+\)|thread \(\d+\):?\s*", "", frames[0]).strip() or "main"] += seconds
        stage = next((name for name, keys in STAGES if any(key in stack for key in keys)), "other")
        stages[stage] += seconds
    return threads, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy record -f raw output")
    parser.add_argument("--rate", type=float, default=40.0, help="py-spy's sampling rate (-r), default 40")
    args = parser.parse_args()
    threads, stages = summarize(args.profile, args.rate)
    print("| thread | s |\n|---|---|")
    for name, seconds in threads.most_common():
        print(f"| {name} | {seconds:.1f} |")
    print("\n| stage | s |\n|---|---|")
    for name, seconds in stages.most_common():
        print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
