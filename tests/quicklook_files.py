"""Small synthetic NWB files for the quicklook panels of content the bundled samples do not have: units with
waveforms and ndx-optogenetics pulses (Neuropixels-Opto style), and multi-plane imaging with pixel masks, ablated
ROIs, ΔF/F on timestamps and trials (SSC-11 style), and image masks; a tiny ephys file (raw series, patch trace,
one ground-truth unit) in HDF5 or NWB-Zarr, and the edits that make hostile variants of it (:func:`h5_replace`,
:func:`h5_set_attribute`, :func:`h5_delete`). Deterministic (seeded)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import h5py
import numpy as np
from pynwb import NWBHDF5IO, NWBFile
from pynwb.ecephys import ElectricalSeries
from pynwb.file import Subject
from pynwb.icephys import CurrentClampSeries
from pynwb.ophys import DfOverF, ImageSegmentation, OpticalChannel, RoiResponseSeries

START = datetime(2020, 1, 1, tzinfo=timezone.utc)
NUM_UNITS = 20
NUM_EMITTERS = 14
PULSES_PER_EMITTER = 3
WAVEFORM_SAMPLES = 60
WAVEFORM_RATE = 30_000.0
IMAGING_RATE = 7.0
IMAGING_SECONDS = 60.0
NUM_PLANES = 3
ROIS_PER_PLANE = 12
FOV = 512
TRIAL_SECONDS = 10.0


def new_nwbfile(session_id: str, *, subject: bool = True) -> NWBFile:
    nwbfile = NWBFile(session_description=f"synthetic {session_id}", identifier=session_id, session_id=session_id,
                      session_start_time=START)
    if subject:
        nwbfile.subject = Subject(subject_id="mouse-1", species="Mus musculus", sex="U", age="P90D")
    return nwbfile


def write(nwbfile: NWBFile, path: Path) -> Path:
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def opto_spike_times(seed: int = 0) -> list[np.ndarray]:
    """Poisson spike trains of the units over 30 s."""
    rng = np.random.default_rng(seed)
    return [np.sort(rng.uniform(0, 30, size=rng.integers(50, 400))) for _ in range(NUM_UNITS)]


def pulse_schedule() -> list[tuple[float, float, float, int]]:
    """(start, stop, power mW, emitter): each emitter pulsed 3 times for 10 ms, emitters 0.5 s apart from 10 s."""
    pulses = []
    for emitter in range(NUM_EMITTERS):
        for repeat in range(PULSES_PER_EMITTER):
            start = 10.0 + 0.5 * emitter + 0.1 * repeat
            pulses.append((start, start + 0.01, 1.0 + 0.1 * emitter, emitter))
    return sorted(pulses)


def add_optogenetics(nwbfile: NWBFile) -> None:
    """14 emitter sites and one pulse table (ndx-optogenetics 0.4)."""
    from ndx_ophys_devices import (
        Effector,
        ExcitationSource,
        ExcitationSourceModel,
        FiberInsertion,
        OpticalFiber,
        OpticalFiberModel,
    )
    from ndx_optogenetics import (
        OptogeneticEffectors,
        OptogeneticExperimentMetadata,
        OptogeneticPulsesTable,
        OptogeneticSitesTable,
    )

    source_model = ExcitationSourceModel(name="LEDModel", description="synthetic", manufacturer="none",
                                         source_type="LED", excitation_mode="one-photon",
                                         wavelength_range_in_nm=[638.0, 638.0])
    fiber_model = OpticalFiberModel(name="FiberModel", description="synthetic", manufacturer="none",
                                    numerical_aperture=0.39, core_diameter_in_um=10.0)
    nwbfile.add_device_model(source_model)
    nwbfile.add_device_model(fiber_model)
    effector = Effector(name="ChrimsonR", description="synthetic opsin", label="ChrimsonR")
    sites = OptogeneticSitesTable(description="one row per emitter")
    for emitter in range(NUM_EMITTERS):
        source = ExcitationSource(name=f"emitter{emitter}", model=source_model)
        fiber = OpticalFiber(name=f"waveguide{emitter}", model=fiber_model,
                             fiber_insertion=FiberInsertion(name="fiber_insertion", depth_in_mm=0.07 + 0.1 * emitter))
        nwbfile.add_device(source)
        nwbfile.add_device(fiber)
        sites.add_row(excitation_source=source, optical_fiber=fiber, effector=effector)
    nwbfile.add_lab_meta_data(OptogeneticExperimentMetadata(
        optogenetic_sites_table=sites, optogenetic_effectors=OptogeneticEffectors(effectors=[effector]),
        stimulation_software="synthetic"))
    pulses = OptogeneticPulsesTable(name="optogenetic_pulses", description="one row per pulse",
                                    target_tables={"optogenetic_sites": sites})
    for start, stop, power, emitter in pulse_schedule():
        pulses.add_row(start_time=start, stop_time=stop, power_in_mW=power, wavelength_in_nm=638.0,
                       optogenetic_sites=[emitter])
    nwbfile.add_time_intervals(pulses)


def unit_waveforms() -> np.ndarray:
    """(units, samples, 4 channels) mean waveforms: a negative spike of growing depth, largest on channel unit % 4."""
    t = np.arange(WAVEFORM_SAMPLES) - WAVEFORM_SAMPLES // 3
    shape = -np.exp(-0.5 * (t / 3.0) ** 2)
    waveforms = np.zeros((NUM_UNITS, WAVEFORM_SAMPLES, 4))
    for unit in range(NUM_UNITS):
        waveforms[unit] = shape[:, None] * 20.0
        waveforms[unit, :, unit % 4] = shape * (50.0 + 5 * unit)
    return waveforms


#: Electrodes of the units file (2 columns × 48 rows, 20 µm apart), and the ones marked bad.
NUM_ELECTRODES = 96
BAD_ELECTRODES = (7, 50)


def electrode_position(row: int) -> tuple[float, float]:
    return (16.0 + 32.0 * (row % 2), 20.0 * (row // 2))


def add_electrodes(nwbfile: NWBFile) -> None:
    """A probe with positions and a ``bad_channel`` column, without any raw series."""
    device = nwbfile.create_device(name="Probe")
    group = nwbfile.create_electrode_group(name="shank", description="one shank", location="unknown", device=device)
    nwbfile.add_electrode_column(name="rel_x", description="µm")
    nwbfile.add_electrode_column(name="rel_y", description="µm")
    nwbfile.add_electrode_column(name="bad_channel", description="excluded")
    for row in range(NUM_ELECTRODES):
        rel_x, rel_y = electrode_position(row)
        nwbfile.add_electrode(group=group, location="unknown", rel_x=rel_x, rel_y=rel_y,
                              bad_channel=row in BAD_ELECTRODES)


def write_opto_units_file(path: Path) -> Path:
    """Electrodes, units (depth, waveform_mean) and 14-emitter pulses, as the Neuropixels-Opto conversion stores
    them."""
    from pynwb.misc import Units

    nwbfile = new_nwbfile("opto-session")
    add_electrodes(nwbfile)
    nwbfile.units = Units(name="units", description="sorted units", waveform_rate=WAVEFORM_RATE,
                          waveform_unit="microvolts")
    nwbfile.add_unit_column(name="depth", description="µm from the tip")
    for unit, (spikes, waveform) in enumerate(zip(opto_spike_times(), unit_waveforms())):
        nwbfile.add_unit(spike_times=spikes, depth=float(3000 - 100 * unit), waveform_mean=waveform)
    add_optogenetics(nwbfile)
    return write(nwbfile, path)


def disc(centre_row: int, centre_column: int, radius: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rows, columns = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    inside = rows**2 + columns**2 <= radius**2
    return rows[inside] + centre_row, columns[inside] + centre_column


def roi_centres(plane: int) -> list[tuple[int, int]]:
    """(row, column) of each ROI: a diagonal band per plane, within 512 × 512 (the last near the corner)."""
    centres = [(30 + 35 * k, 40 + 30 * k + 10 * plane) for k in range(ROIS_PER_PLANE - 1)]
    return centres + [(500, 490)]


#: ROIs ablated in each plane.
ABLATED = {0: [3], 1: [], 2: [0, 5]}


def dff_values(plane: int, num_frames: int) -> np.ndarray:
    """(frames, ROIs) ΔF/F: ROI k of each plane has transients of amplitude k+1 every 5 s, plus small noise."""
    rng = np.random.default_rng(plane)
    times = np.arange(num_frames) / IMAGING_RATE
    values = rng.normal(0, 0.01, size=(num_frames, ROIS_PER_PLANE))
    for roi in range(ROIS_PER_PLANE):
        phase = (times - 0.3 * roi) % 5.0
        values[:, roi] += (roi + 1) * 0.2 * np.exp(-phase / 0.8)
    return values


def write_imaging_file(path: Path) -> Path:
    """Three planes of pixel-mask ROIs (with ``is_ablated``), ΔF/F with timestamps, and trials."""
    nwbfile = new_nwbfile("imaging-session")
    device = nwbfile.create_device(name="Microscope")
    channel = OpticalChannel(name="Green", description="GCaMP", emission_lambda=np.nan)
    ophys = nwbfile.create_processing_module("ophys", "imaging")
    segmentation = ImageSegmentation()
    dff = DfOverF()
    ophys.add(segmentation)
    ophys.add(dff)
    num_frames = int(IMAGING_SECONDS * IMAGING_RATE)
    for plane in range(NUM_PLANES):
        imaging_plane = nwbfile.create_imaging_plane(
            name=f"ImagingPlane{plane}", optical_channel=channel, description="plane", device=device,
            excitation_lambda=np.nan, indicator="GCaMP6s", location="vS1", imaging_rate=IMAGING_RATE)
        table = segmentation.create_plane_segmentation(name=f"PlaneSegmentation{plane}", description="ROIs",
                                                       imaging_plane=imaging_plane)
        table.add_column(name="is_ablated", description="ablated")
        for roi, (row, column) in enumerate(roi_centres(plane)):
            rows, columns = disc(row, column)
            keep = (rows < FOV) & (columns < FOV)
            pixel_mask = [(int(x), int(y), 1.0) for y, x in zip(rows[keep], columns[keep])]
            table.add_roi(pixel_mask=pixel_mask, is_ablated=roi in ABLATED[plane], id=100 * plane + roi)
        region = table.create_roi_table_region(description="all", region=list(range(ROIS_PER_PLANE)))
        timestamps = 2.0 + np.arange(num_frames) / IMAGING_RATE
        dff.add_roi_response_series(RoiResponseSeries(
            name=f"DfOverF{plane}", data=dff_values(plane, num_frames), rois=region, unit="n.a.",
            timestamps=timestamps))
    nwbfile.add_trial_column(name="trial_type", description="type")
    for trial in range(int(IMAGING_SECONDS // TRIAL_SECONDS)):
        nwbfile.add_trial(start_time=3.0 + trial * TRIAL_SECONDS, stop_time=3.0 + (trial + 1) * TRIAL_SECONDS - 1,
                          trial_type="go")
    return write(nwbfile, path)


IMAGE_MASK_SHAPE = (64, 80)


def write_image_mask_file(path: Path) -> Path:
    """One plane of two image-mask ROIs on a non-square 64 × 80 field (the second ablated), no subject."""
    nwbfile = new_nwbfile("image-mask-session", subject=False)
    device = nwbfile.create_device(name="Microscope")
    channel = OpticalChannel(name="Green", description="GCaMP", emission_lambda=np.nan)
    imaging_plane = nwbfile.create_imaging_plane(
        name="ImagingPlane", optical_channel=channel, description="plane", device=device,
        excitation_lambda=np.nan, indicator="GCaMP6s", location="V1", imaging_rate=30.0)
    ophys = nwbfile.create_processing_module("ophys", "imaging")
    segmentation = ImageSegmentation()
    ophys.add(segmentation)
    table = segmentation.create_plane_segmentation(name="PlaneSegmentation", description="ROIs",
                                                   imaging_plane=imaging_plane)
    table.add_column(name="is_ablated", description="ablated")
    for number, (rows, columns) in enumerate(((slice(10, 20), slice(50, 60)), (slice(40, 50), slice(5, 15)))):
        mask = np.zeros(IMAGE_MASK_SHAPE)
        mask[rows, columns] = 1.0
        table.add_roi(image_mask=mask, is_ablated=number == 1)
    return write(nwbfile, path)


#: The tiny ephys file: raw series (samples × channels at a rate), the channel the unit's spikes are planted on,
#: and the unit's spike times (s).
TINY_RATE = 30_000.0
TINY_SAMPLES = 3_000
TINY_CHANNELS = 4
TINY_PEAK_CHANNEL = 1
TINY_SPIKES = (0.03, 0.05, 0.07)


def tiny_ephys_nwbfile() -> NWBFile:
    """Four electrodes with positions, 0.1 s of raw int16 data with three spikes planted on channel 1, a current
    clamp trace, and one (ground-truth) unit."""
    nwbfile = new_nwbfile("tiny-ephys")
    device = nwbfile.create_device(name="Probe")
    group = nwbfile.create_electrode_group(name="shank", description="one shank", location="unknown", device=device)
    nwbfile.add_electrode_column(name="rel_x", description="µm")
    nwbfile.add_electrode_column(name="rel_y", description="µm")
    for channel in range(TINY_CHANNELS):
        nwbfile.add_electrode(group=group, location="unknown", rel_x=32.0 * (channel % 2), rel_y=20.0 * channel)
    region = nwbfile.create_electrode_table_region(list(range(TINY_CHANNELS)), "all electrodes")
    rng = np.random.default_rng(0)
    data = rng.integers(-50, 50, size=(TINY_SAMPLES, TINY_CHANNELS)).astype(np.int16)
    for spike in TINY_SPIKES:
        start = int(spike * TINY_RATE)
        data[start : start + 10, TINY_PEAK_CHANNEL] -= 500
    nwbfile.add_acquisition(ElectricalSeries(name="ElectricalSeries", data=data, electrodes=region, rate=TINY_RATE,
                                             conversion=2e-6))
    electrode = nwbfile.create_icephys_electrode(name="pipette", description="juxtacellular", device=device)
    nwbfile.add_acquisition(CurrentClampSeries(name="PatchClampSeries", data=rng.normal(size=TINY_SAMPLES),
                                               electrode=electrode, rate=TINY_RATE, gain=1.0, conversion=1e-3))
    nwbfile.add_unit(spike_times=np.array(TINY_SPIKES))
    return nwbfile


def write_tiny_ephys_file(path: Path) -> Path:
    """The tiny ephys file as HDF5 (about 0.1 s to write)."""
    return write(tiny_ephys_nwbfile(), path)


def write_tiny_ephys_zarr(path: Path) -> Path:
    """The tiny ephys file as an NWB-Zarr store (a folder), text and references stored with the JSON codec, never
    pickle (``ZarrIO`` with pynwb's manager: hdmf-zarr 0.13's ``NWBZarrIO`` drops the codec, as the writer notes)."""
    from hdmf_zarr.backend import ZarrIO
    from numcodecs import JSON
    from pynwb import get_manager

    with ZarrIO(str(path), mode="w", manager=get_manager(), object_codec_class=JSON) as io:
        io.write(tiny_ephys_nwbfile())
    return path


def h5_replace(path: Path, key: str, data=None, *, shape=None, dtype=None) -> None:
    """Replace dataset ``key`` of an HDF5 file (its attributes kept): by ``data``, or by a chunked dataset of a
    declared ``shape`` and ``dtype`` whose chunks are never written (a huge shape costs nothing on disk)."""
    with h5py.File(path, "a") as file:
        attributes = dict(file[key].attrs) if key in file else {}
        if key in file:
            del file[key]
        if data is not None:
            dataset = file.create_dataset(key, data=data)
        else:
            chunks = tuple(min(n, 1024) for n in shape)
            dataset = file.create_dataset(key, shape=shape, dtype=dtype, chunks=chunks)
        for name, value in attributes.items():
            dataset.attrs[name] = value


def h5_set_attribute(path: Path, key: str, name: str, value) -> None:
    with h5py.File(path, "a") as file:
        file[key].attrs[name] = value


def h5_delete(path: Path, key: str) -> None:
    with h5py.File(path, "a") as file:
        del file[key]


def counting_reads(monkeypatch) -> dict:
    """Count the values each HDF5 dataset returns, by its path, while the test runs (in this process)."""
    read = {}
    original = h5py.Dataset.__getitem__

    def counting(self, selection):
        values = original(self, selection)
        read[self.name] = read.get(self.name, 0) + np.size(values)
        return values

    monkeypatch.setattr(h5py.Dataset, "__getitem__", counting)
    return read
