"""Allen Institute Dataset II (Ledochowitsch et al. 2019): one ``<recording_id>.h5`` per simultaneous recording.

Keys, per the dataset page and the keys third-party loaders printed from the real files:

========================== ============================================================= =====
key                        content                                                       unit
========================== ============================================================= =====
dff                        ΔF/F0 of the recorded neuron, one value per ophys frame        1
dte                        ephys sampling period (scalar)                                s
dto                        ophys sampling period (scalar)                                s
ephys_raw                  cell-attached membrane voltage                                V
ephys_baseline_subtracted  the same voltage minus its baseline                           V
genotype                   full genotype of the transgenic mouse (a bytes scalar)        n/a
quiroga                    spike detection threshold (the page misspells it ``quiroma``) V
sptimes                    detected spike times                                          s
========================== ============================================================= =====

Loaders call ``.ravel()`` on the arrays, so vectors may be stored 1-D, 1 × N or N × 1; scalars may be stored as
1-element arrays. Both clocks start at t = 0 of the recording. :func:`read_oephys_recording` checks all of this
strictly (the vectors and scalars with :mod:`nwb_conversions.readers.hdf5_values`) and raises
:class:`~nwb_conversions.errors.SourceFormatError` on anything else, including sampling periods outside
:data:`PLAUSIBLE_PERIODS` and a threshold beyond :data:`PLAUSIBLE_THRESHOLD_V`;
:func:`~nwb_conversions.layouts.allen_oephys.consistency.consistency_notes` reports what is suspicious but not invalid
(NaN or infinite samples in a trace, spikes outside the trace or far from a threshold crossing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ...errors import SourceFormatError
from ...readers.hdf5_values import check_is_hdf5, read_scalar, read_vector
from ...readers.source_access import format_number, one_line, printable, reading

#: Vectors every recording holds, in the order they are checked.
VECTOR_KEYS = ("dff", "ephys_raw", "ephys_baseline_subtracted", "sptimes")

#: Sampling periods (s), one per stream.
PERIOD_KEYS = ("dte", "dto")

#: The threshold's real key first; the dataset page's spelling second.
THRESHOLD_KEYS = ("quiroga", "quiroma")

EXPECTED_FILE = (
    "an Allen Dataset II recording: an HDF5 file with keys dff, dte, dto, ephys_baseline_subtracted, ephys_raw, "
    "genotype, quiroga (or quiroma), sptimes"
)

#: Plausible sampling periods in seconds, per key: (shortest, longest, the range in words).
PLAUSIBLE_PERIODS = {
    "dte": (1e-6, 1e-3, "from 1e-06 to 0.001 s (an ephys rate from 1 kHz to 1 MHz)"),
    "dto": (1e-3, 10.0, "from 0.001 to 10 s (an imaging rate from 0.1 Hz to 1 kHz)"),
}

#: Largest plausible magnitude of the spike threshold, in volts (cell-attached spikes are millivolts).
PLAUSIBLE_THRESHOLD_V = 10.0

#: Longest genotype accepted, in bytes (real ones are about 40).
MAX_GENOTYPE_BYTES = 4096


@dataclass(frozen=True)
class OephysRecording:
    """The content of one Dataset II recording file, checked and with vectors flattened to 1-D.

    Attributes
    ----------
    file_path : Path
    dff : numpy.ndarray
        ΔF/F0, one value per ophys frame (as stored, dtype kept).
    ephys_raw, ephys_baseline_subtracted : numpy.ndarray
        Cell-attached voltage in volts, one value per ephys sample.
    spike_times : numpy.ndarray
        ``sptimes``: sorted, finite spike times in seconds.
    ephys_period, ophys_period : float
        ``dte`` and ``dto`` in seconds; positive and finite.
    spike_threshold : float
        ``quiroga``: the detection threshold in volts.
    threshold_key : str
        The key the threshold was read from (``"quiroga"`` or ``"quiroma"``).
    genotype : str
        The full genotype, decoded from UTF-8.
    """

    file_path: Path
    dff: np.ndarray
    ephys_raw: np.ndarray
    ephys_baseline_subtracted: np.ndarray
    spike_times: np.ndarray
    ephys_period: float
    ophys_period: float
    spike_threshold: float
    threshold_key: str
    genotype: str

    @property
    def recording_id(self) -> str:
        """The recording id: the file's stem (``103991`` for ``103991.h5``)."""
        return self.file_path.stem

    @property
    def ephys_rate(self) -> float:
        """Ephys samples per second, 1 / ``dte``."""
        return 1.0 / self.ephys_period

    @property
    def ophys_rate(self) -> float:
        """Ophys frames per second, 1 / ``dto``."""
        return 1.0 / self.ophys_period

    @property
    def ephys_duration(self) -> float:
        """Seconds spanned by the ephys samples: their count × ``dte``."""
        return self.ephys_raw.shape[0] * self.ephys_period


def read_oephys_recording(file_path: str | Path) -> OephysRecording:
    """Read and check one ``<recording_id>.h5`` file.

    Parameters
    ----------
    file_path : str or Path
        The HDF5 file.

    Raises
    ------
    SourceFormatError
        If the file is missing or not HDF5, lacks a key, holds a vector that is not 1-D (or 1 × N / N × 1), a
        non-positive or non-finite sampling period, unsorted or non-finite spike times, a genotype that is not a
        string, or traces of different lengths.
    """
    file_path = Path(file_path)
    check_is_hdf5(file_path, EXPECTED_FILE)
    try:
        with reading(file_path, EXPECTED_FILE), h5py.File(file_path, "r") as h5:
            datasets = _datasets(h5, file_path)
            vectors = {key: read_vector(datasets[key], key, file_path) for key in VECTOR_KEYS}
            periods = {key: _read_period(datasets, key, file_path) for key in PERIOD_KEYS}
            threshold_key, threshold = _read_threshold(datasets, file_path)
            genotype = _read_genotype(datasets, file_path)
    except SourceFormatError:
        raise
    except Exception as exc:  # h5py raises many types for damaged files
        problem = f"unreadable HDF5 content ({type(exc).__name__}: {one_line(exc)[:200]})"
        raise SourceFormatError(file_path, problem, EXPECTED_FILE) from None
    _check_traces(vectors, file_path)
    _check_spike_times(vectors["sptimes"], file_path)
    return OephysRecording(
        file_path=file_path,
        dff=vectors["dff"],
        ephys_raw=vectors["ephys_raw"],
        ephys_baseline_subtracted=vectors["ephys_baseline_subtracted"],
        spike_times=vectors["sptimes"],
        ephys_period=periods["dte"],
        ophys_period=periods["dto"],
        spike_threshold=threshold,
        threshold_key=threshold_key,
        genotype=genotype,
    )


def _datasets(h5: h5py.File, file_path: Path) -> dict[str, h5py.Dataset]:
    """Return the recording's datasets by key; raise if a required key is missing or is a group."""
    names = set(h5.keys())
    required = VECTOR_KEYS + PERIOD_KEYS + ("genotype",)
    missing = [key for key in required if key not in names]
    if not any(key in names for key in THRESHOLD_KEYS):
        missing.append("quiroga (or quiroma)")
    if missing:
        present = ", ".join(printable(key) for key in sorted(names)) or "none"
        problem = f"missing key(s) {', '.join(missing)} (keys present: {present})"
        raise SourceFormatError(file_path, problem, EXPECTED_FILE)
    datasets = {}
    for key in required + tuple(key for key in THRESHOLD_KEYS if key in names):
        node = h5[key]
        if not isinstance(node, h5py.Dataset):
            raise SourceFormatError(file_path, f"'{key}' is an HDF5 group", f"'{key}' to be a dataset")
        datasets[key] = node
    return datasets


def _read_period(datasets: dict[str, h5py.Dataset], key: str, file_path: Path) -> float:
    """Read a sampling period (s): one positive, finite number."""
    period = read_scalar(datasets[key], key, file_path)
    if not np.isfinite(period) or period <= 0:
        raise SourceFormatError(
            file_path, f"'{key}' (sampling period) is {period!r}", f"'{key}' to be a positive, finite number of seconds"
        )
    shortest, longest, expected = PLAUSIBLE_PERIODS[key]
    if not shortest <= period <= longest:
        raise SourceFormatError(
            file_path,
            f"'{key}' (sampling period) is {format_number(period)} s, outside the plausible range",
            f"'{key}' to be {expected}",
        )
    return period


def _read_threshold(datasets: dict[str, h5py.Dataset], file_path: Path) -> tuple[str, float]:
    """Read the spike detection threshold (V) from ``quiroga``, or from ``quiroma`` as the dataset page spells it."""
    values = {key: read_scalar(datasets[key], key, file_path) for key in THRESHOLD_KEYS if key in datasets}
    for key, threshold in values.items():
        if not np.isfinite(threshold):
            raise SourceFormatError(file_path, f"'{key}' (spike threshold) is {threshold!r}", f"'{key}' to be finite")
        if abs(threshold) > PLAUSIBLE_THRESHOLD_V:
            raise SourceFormatError(
                file_path,
                f"'{key}' (spike threshold) is {format_number(threshold)} V, outside the plausible range",
                f"'{key}' to be a threshold in volts within ±{PLAUSIBLE_THRESHOLD_V:g} V",
            )
    if len(values) == 2 and values["quiroga"] != values["quiroma"]:
        raise SourceFormatError(
            file_path,
            f"the spike threshold is stated twice with different values: 'quiroga' is {values['quiroga']!r} V and "
            f"'quiroma' is {values['quiroma']!r} V",
            "one spike detection threshold (the two spellings of its key holding the same value)",
        )
    return next(iter(values.items()))


def _read_genotype(datasets: dict[str, h5py.Dataset], file_path: Path) -> str:
    """Read the genotype: a bytes or str scalar, or a 1-element array of one; decoded from UTF-8."""
    expected = "'genotype' to be one UTF-8 string such as b'Emx1-IRES-Cre;Camk2a-tTA;Ai94'"
    dataset = datasets["genotype"]
    if dataset.shape is None or dataset.size > 1:
        raise SourceFormatError(file_path, f"'genotype' holds {dataset.size or 0} values", expected)
    if dataset.dtype.itemsize > MAX_GENOTYPE_BYTES:
        raise SourceFormatError(file_path, f"'genotype' is {dataset.dtype.itemsize} bytes long", expected)
    value = dataset[()]
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise SourceFormatError(file_path, f"'genotype' holds {value.size} values", expected)
        value = value.reshape(-1)[0]
    if isinstance(value, (bytes, np.bytes_)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise SourceFormatError(file_path, "'genotype' is not valid UTF-8", expected)
    if not isinstance(value, str):
        raise SourceFormatError(file_path, f"'genotype' holds a {type(value).__name__}", expected)
    genotype = value.strip("\x00").strip()
    if not genotype:
        raise SourceFormatError(file_path, "'genotype' is empty", expected)
    return genotype


def _check_traces(vectors: dict[str, np.ndarray], file_path: Path) -> None:
    """Raise if a trace is empty or the two voltage traces differ in length."""
    for key in ("dff", "ephys_raw", "ephys_baseline_subtracted"):
        if vectors[key].shape[0] == 0:
            raise SourceFormatError(file_path, f"'{key}' is empty", f"'{key}' to hold samples")
    raw, subtracted = vectors["ephys_raw"].shape[0], vectors["ephys_baseline_subtracted"].shape[0]
    if raw != subtracted:
        raise SourceFormatError(
            file_path,
            f"'ephys_raw' has {raw} samples but 'ephys_baseline_subtracted' has {subtracted}",
            "both voltage traces on the same clock, of the same length",
        )


def _check_spike_times(spike_times: np.ndarray, file_path: Path) -> None:
    """Raise unless the spike times are finite and sorted (non-decreasing)."""
    expected = "'sptimes' to be finite spike times in seconds, in increasing order"
    finite = np.isfinite(spike_times)
    if not finite.all():
        first = int(np.flatnonzero(~finite)[0])
        raise SourceFormatError(file_path, f"'sptimes'[{first}] is {float(spike_times[first])!r}", expected)
    decreasing = np.flatnonzero(np.diff(spike_times) < 0)
    if decreasing.size:
        first = int(decreasing[0])
        before, after = float(spike_times[first]), float(spike_times[first + 1])
        raise SourceFormatError(
            file_path,
            f"'sptimes' is not sorted ({decreasing.size} decrease(s); first: [{first}] = {before!r} > "
            f"[{first + 1}] = {after!r})",
            expected,
        )
