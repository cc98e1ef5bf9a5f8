"""The ``convert-to-nwb`` command: :mod:`.main` (the entry point), :mod:`.parser` (the arguments) and
:mod:`.commands` (what each subcommand does)."""
