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
strictly and raises :class:`~nwb_conversions.errors.SourceFormatError` on anything else, including sampling periods
outside :data:`PLAUSIBLE_PERIODS` and a threshold beyond :data:`PLAUSIBLE_THRESHOLD_V`;
:func:`consistency_notes` reports what is suspicious but not invalid (NaN or infinite samples in a trace, spikes
outside the trace or far from a threshold crossing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ...errors import SourceFormatError
from ...readers.source_access import check_regular_file, format_number, one_line, printable, reading
from ...readers.trace_checks import non_finite_note

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"

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

#: Largest vector read into memory (2 GiB: 268 million float64 samples, hours of ephys at tens of kHz).
MAX_VECTOR_BYTES = 2**31

#: Longest genotype accepted, in bytes (real ones are about 40).
MAX_GENOTYPE_BYTES = 4096

#: Spikes farther than this from any sample at or beyond the threshold are reported.
THRESHOLD_CROSSING_WINDOW_S = 1e-3


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
    _check_is_hdf5(file_path)
    try:
        with reading(file_path, EXPECTED_FILE), h5py.File(file_path, "r") as h5:
            datasets = _datasets(h5, file_path)
            vectors = {key: _read_vector(datasets, key, file_path) for key in VECTOR_KEYS}
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


def _check_is_hdf5(file_path: Path) -> None:
    """Raise unless ``file_path`` is a readable regular file with the HDF5 signature."""
    if not file_path.exists() and not file_path.is_symlink():
        raise SourceFormatError(file_path, "no such file", EXPECTED_FILE)
    check_regular_file(file_path, EXPECTED_FILE)
    with reading(file_path, EXPECTED_FILE):
        with open(file_path, "rb") as stream:  # permission denied is reported here, not as "not HDF5"
            signature = stream.read(len(HDF5_SIGNATURE))
        # the signature opens the file, unless a user block precedes it (then let HDF5 look for it)
        is_hdf5 = signature == HDF5_SIGNATURE or h5py.is_hdf5(file_path)
    if not is_hdf5:
        raise SourceFormatError(file_path, "not an HDF5 file (no HDF5 signature)", EXPECTED_FILE)


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


def _numeric(value: np.ndarray, key: str, file_path: Path, expected: str) -> np.ndarray:
    """Return ``value`` if it holds real numbers (integers or floats); raise otherwise."""
    if value.dtype.kind not in "iuf":
        raise SourceFormatError(file_path, f"'{key}' holds {value.dtype} values", expected)
    return value


def _read_vector(datasets: dict[str, h5py.Dataset], key: str, file_path: Path) -> np.ndarray:
    """Read a vector stored 1-D, 1 × N or N × 1, as a 1-D array (a view of what was read, not a copy)."""
    expected = f"'{key}' to be a numeric vector (1-D, or 2-D of shape 1 × N or N × 1)"
    dataset = datasets[key]
    _check_storage(dataset, key, file_path, expected)
    value = np.asarray(dataset[()])
    if value.ndim == 1:
        vector = value
    elif value.ndim == 2 and 1 in value.shape:
        vector = value.reshape(-1)
    elif value.ndim == 0:
        raise SourceFormatError(file_path, f"'{key}' is a scalar, not a vector", expected)
    else:
        shape = " × ".join(str(n) for n in value.shape)
        raise SourceFormatError(file_path, f"'{key}' has shape {shape}, which is not a vector", expected)
    return _numeric(vector, key, file_path, expected)


def _check_storage(dataset: h5py.Dataset, key: str, file_path: Path, expected: str) -> None:
    """Raise before reading a dataset that declares more than :data:`MAX_VECTOR_BYTES`, a non-numeric type, or
    (when stored contiguously) more bytes than the file holds for it: a damaged header, not data."""
    if dataset.shape is None:
        raise SourceFormatError(file_path, f"'{key}' is an empty dataspace", expected)
    if dataset.dtype.kind not in "iuf":
        raise SourceFormatError(file_path, f"'{key}' holds {dataset.dtype} values", expected)
    declared = int(np.prod(dataset.shape, dtype=object)) * dataset.dtype.itemsize
    if declared > MAX_VECTOR_BYTES:
        raise SourceFormatError(file_path, f"'{key}' declares {declared} bytes", f"{expected}, of at most 2 GiB")
    if dataset.chunks is None and declared and dataset.id.get_storage_size() != declared:
        raise SourceFormatError(
            file_path,
            f"'{key}' declares {declared} bytes but {dataset.id.get_storage_size()} are stored",
            f"{expected}, stored whole",
        )


def _read_scalar(datasets: dict[str, h5py.Dataset], key: str, file_path: Path) -> float:
    """Read a number stored as a scalar or a 1-element array."""
    expected = f"'{key}' to be one number (a scalar or a 1-element array)"
    dataset = datasets[key]
    _check_storage(dataset, key, file_path, expected)
    value = np.asarray(dataset[()])
    if value.size != 1:
        raise SourceFormatError(file_path, f"'{key}' holds {value.size} values", expected)
    return float(_numeric(value, key, file_path, expected).reshape(-1)[0])


def _read_period(datasets: dict[str, h5py.Dataset], key: str, file_path: Path) -> float:
    """Read a sampling period (s): one positive, finite number."""
    period = _read_scalar(datasets, key, file_path)
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
    values = {key: _read_scalar(datasets, key, file_path) for key in THRESHOLD_KEYS if key in datasets}
    if len(values) == 2 and values["quiroga"] != values["quiroma"]:
        raise SourceFormatError(
            file_path,
            f"'quiroga' ({values['quiroga']!r}) and 'quiroma' ({values['quiroma']!r}) disagree",
            "one spike detection threshold",
        )
    key, threshold = next(iter(values.items()))
    if not np.isfinite(threshold):
        raise SourceFormatError(file_path, f"'{key}' (spike threshold) is {threshold!r}", f"'{key}' to be finite")
    if abs(threshold) > PLAUSIBLE_THRESHOLD_V:
        raise SourceFormatError(
            file_path,
            f"'{key}' (spike threshold) is {format_number(threshold)} V, outside the plausible range",
            f"'{key}' to be a threshold in volts within ±{PLAUSIBLE_THRESHOLD_V:g} V",
        )
    return key, threshold


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


def spikes_outside_ephys(recording: OephysRecording) -> np.ndarray:
    """Return the spike times that fall outside the ephys trace (beyond half a sample from its first/last sample)."""
    half = recording.ephys_period / 2
    last_sample_time = (recording.ephys_raw.shape[0] - 1) * recording.ephys_period
    times = recording.spike_times
    return times[(times < -half) | (times > last_sample_time + half)]


def spikes_far_from_threshold(
    recording: OephysRecording, *, window_s: float = THRESHOLD_CROSSING_WINDOW_S
) -> np.ndarray:
    """Return the spike times with no baseline-subtracted sample at or beyond the threshold within ``window_s``.

    The threshold's polarity is not documented (cell-attached spikes may be negative-going), so a sample counts
    when its magnitude reaches the threshold's magnitude. Spikes outside the trace are left to
    :func:`spikes_outside_ephys`.
    """
    trace = recording.ephys_baseline_subtracted
    num_samples = trace.shape[0]
    samples = np.rint(recording.spike_times / recording.ephys_period).astype(np.int64)
    inside = (samples >= 0) & (samples < num_samples)
    samples = samples[inside]
    window = max(1, int(round(window_s / recording.ephys_period)))
    reaches = np.abs(trace) >= abs(recording.spike_threshold)
    counts = np.concatenate(([0], np.cumsum(reaches, dtype=np.int64)))
    hits = counts[np.minimum(samples + window + 1, num_samples)] - counts[np.maximum(samples - window, 0)]
    return recording.spike_times[inside][hits == 0]


def non_finite_trace_notes(recording: OephysRecording) -> list[str]:
    """One line per trace (``dff``, ``ephys_raw``, ``ephys_baseline_subtracted``) holding NaN or infinite samples."""
    notes = []
    for key in ("dff", "ephys_raw", "ephys_baseline_subtracted"):
        note = non_finite_note(getattr(recording, key), recording.file_path, name=f"'{key}'", num_blocks=None)
        if note:
            notes.append(f"{note}; they are written as they are")
    return notes


def consistency_notes(recording: OephysRecording) -> list[str]:
    """Describe what is suspicious but valid in a recording: one line per finding; empty when all is consistent."""
    notes = non_finite_trace_notes(recording)
    total = recording.spike_times.shape[0]
    if total == 0:
        notes.append(f"{recording.file_path}: 'sptimes' holds no spike times, so the file has no units table")
    outside = spikes_outside_ephys(recording)
    if outside.size:
        notes.append(
            f"{recording.file_path}: {outside.size} of {total} spike times (sptimes) fall outside the ephys trace "
            f"[0, {recording.ephys_duration:g} s) (first: {outside[0]:g} s); they are written as they are"
        )
    far = spikes_far_from_threshold(recording)
    if far.size:
        notes.append(
            f"{recording.file_path}: {far.size} of {total} spike times (sptimes) have no sample of "
            f"ephys_baseline_subtracted with |value| >= |{recording.threshold_key}| = "
            f"{abs(recording.spike_threshold):g} V "
            f"within ±{THRESHOLD_CROSSING_WINDOW_S * 1e3:g} ms (first: {far[0]:g} s); they are written as they are"
        )
    return notes
