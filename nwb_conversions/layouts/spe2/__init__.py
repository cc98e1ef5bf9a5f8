"""SPE-2 (Neto et al. 2016): ``READ ME.docx`` and the format inferred without it."""
