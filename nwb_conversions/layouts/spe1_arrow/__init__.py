"""SPE-1 Arrow (Zhao et al. 2026): Arrow segments and the per-cell side files."""
