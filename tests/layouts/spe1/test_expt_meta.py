"""``cNN_expt_meta.csv``: Python-2 literals parsed safely, bad layouts rejected."""

import numpy as np
import pytest

from nwb_conversions.errors import SourceFormatError
from nwb_conversions.layouts.spe1.expt_meta import read_expt_meta


def test_reads_the_real_c45_content(tmp_path):
    path = tmp_path / "c45_expt_meta.csv"
    path.write_text("npx,patch\n\"[(384L, 24301033L), 'int16']\",\"[40521060, 'float64']\"\n")
    meta = read_expt_meta(path)
    assert (meta.npx_channels, meta.npx_samples, meta.npx_dtype) == (384, 24301033, np.dtype("int16"))
    assert (meta.patch_samples, meta.patch_dtype) == (40521060, np.dtype("float64"))


@pytest.mark.parametrize(
    "content",
    [
        "npx,patch\n\"__import__('os')\",\"[1, 'float64']\"\n",
        "a,b\n\"[(384L, 10L), 'int16']\",\"[1, 'float64']\"\n",
        "npx,patch\n",
        "npx,patch\n\"[(384L, 10L), 'nodtype']\",\"[1, 'float64']\"\n",
    ],
)
def test_rejects_anything_else_with_one_line(tmp_path, content):
    path = tmp_path / "c1_expt_meta.csv"
    path.write_text(content)
    with pytest.raises(SourceFormatError) as error:
        read_expt_meta(path)
    assert str(error.value).startswith(f"{path}: ") and "\n" not in str(error.value)
