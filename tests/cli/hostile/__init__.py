"""Round-two failure rows, one module per area (``ssc11``, ``np_opto``, ``spe1_arrow``, ``batch``, ``zarr``,
``upload``, ``quicklook``, ``duplicated_facts``): each module's ``ROWS`` maps a row's name to a function
``(tmp_path, monkeypatch) -> Case`` that prepares the mistake. :mod:`tests.cli.test_hostile` runs them all."""
