"""A curator's quicklook: one PNG per NWB file, drawn from the file with matplotlib (Agg, no display).

Panels follow the file's content (:mod:`.ephys`: probe map, raw traces around ground-truth spikes, patch trace;
:mod:`.units`: raster with optogenetic pulses by emitter, waveforms; :mod:`.ophys`: ROI outlines per plane, ΔF/F
with trials or beside the cell-attached trace; :mod:`.text`: session, subject, what DANDI still needs, the gate's
counts), laid out by :mod:`.layout`. Every panel reads slices of the lazily opened datasets, never a whole raw
series. ::

    from nwb_conversions.quicklook import write_quicklook

    result = write_quicklook("c14.nwb")          # c14.png beside it
    print(result.png_path, result.panels)
"""

from .figure import QuicklookResult, draw_quicklook, write_quicklook
from .target import default_png_path

__all__ = ["QuicklookResult", "default_png_path", "draw_quicklook", "write_quicklook"]
