"""The ``convert-to-nwb`` command: parse the arguments (:mod:`.parser`), run the subcommand (:mod:`.commands`), and
turn every failure into one line and an exit status.

Exit status 0 on success. A user's mistake (bad source, bad metadata, existing output, failed gate) prints one line
``error: <file>: <what is wrong>; expected <what>`` on stderr, exits 1 and leaves no output file.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import warnings

from ..errors import ConversionError, describe_os_error, printable
from .commands import COMMANDS
from .crash_guard import run_in_child
from .parser import build_parser

#: Set to 1 to see the traceback of an unexpected error.
TRACEBACK_ENVIRONMENT_VARIABLE = "NWB_CONVERSIONS_TRACEBACK"


def _interrupt(signal_number, frame):
    """Turn SIGTERM into KeyboardInterrupt, so an interrupted conversion cleans up like Ctrl-C."""
    raise KeyboardInterrupt


def _install_signal_handlers() -> dict:
    """SIGTERM cleans up like Ctrl-C; SIGXFSZ (a file size limit, ``ulimit -f``) becomes an ``OSError`` (EFBIG) in
    the write instead of killing the process. Returns the previous handlers."""
    handlers = {signal.SIGTERM: _interrupt}
    if hasattr(signal, "SIGXFSZ"):
        handlers[signal.SIGXFSZ] = signal.SIG_IGN
    return {number: signal.signal(number, handler) for number, handler in handlers.items()}


def _check_environment() -> None:
    """Refuse a malformed ``NWB_CONVERSIONS_WORKERS`` or ``NWB_CONVERSIONS_MEMORY_MB`` before any work is done."""
    from ..writing.cores import check_thread_count
    from ..writing.in_flight import MEMORY_ENVIRONMENT_VARIABLE, check_memory_mb
    from ..writing.write import WORKERS_ENVIRONMENT_VARIABLE

    value = os.environ.get(WORKERS_ENVIRONMENT_VARIABLE)
    try:
        if value is not None:
            check_thread_count(value)
    except ValueError:
        raise ConversionError(
            f"{WORKERS_ENVIRONMENT_VARIABLE}={value!r}: not a number of threads; expected a whole number from 1 to "
            "1024, or the variable unset (one thread per usable core)"
        ) from None
    value = os.environ.get(MEMORY_ENVIRONMENT_VARIABLE)
    try:
        if value is not None:
            check_memory_mb(value)
    except ValueError as error:
        raise ConversionError(
            f"{MEMORY_ENVIRONMENT_VARIABLE}: {error}; expected a budget in MB from 16 to 1000000, or the variable "
            "unset (160)"
        ) from None


def _run(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    _check_environment()
    return COMMANDS[args.command](args)


def _print_error(text: str) -> None:
    print(printable(f"error: {text}"), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status.

    Every failure is one line on stderr: 1 for the user's input or environment (bad sources or metadata, an
    output in the way, a file system refusing a read or a write, too little memory), 130 when interrupted, 2 only
    for a bug of ours. Library warnings are not shown (set ``NWB_CONVERSIONS_TRACEBACK=1`` to see them and the
    traceback of a bug).
    """
    previous_handlers = _install_signal_handlers()
    debugging = bool(os.environ.get(TRACEBACK_ENVIRONMENT_VARIABLE))
    try:
        with warnings.catch_warnings():
            if not debugging:
                warnings.simplefilter("ignore")
            return _run(argv)
    except ConversionError as error:
        _print_error(str(error))
        return 1
    except KeyboardInterrupt:
        _print_error("interrupted; no output file was left behind")
        return 130
    except OSError as error:  # the file system, a permission, a size limit, a cache folder: the environment
        _print_error(describe_os_error(error))
        return 1
    except MemoryError:
        _print_error("out of memory; expected more free memory (or --stub to convert a few seconds)")
        return 1
    except Exception as error:  # a bug, not the user's mistake: still one line, the traceback on request
        if debugging:
            raise
        _print_error(
            f"unexpected {type(error).__name__}: {error}; expected none: please report it "
            f"(set {TRACEBACK_ENVIRONMENT_VARIABLE}=1 to see the traceback); no output file was left behind"
        )
        return 2
    finally:
        for number, handler in previous_handlers.items():
            signal.signal(number, handler)


#: Thread pools of the numerical libraries (OpenBLAS in numpy and scipy, OpenMP, MKL, numexpr), limited to one thread
#: in the command unless the user sets them: the command's parallelism is its own (compression threads, batch worker
#: processes), and a BLAS pool of one thread per core, in every worker process, only oversubscribes the cores.
LIBRARY_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def limit_library_threads() -> None:
    """One thread for each numerical library's pool (:data:`LIBRARY_THREAD_VARIABLES`) that the user left unset;
    must run before numpy is imported."""
    for name in LIBRARY_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


#: The garbage collector's thresholds while the command runs (Python's default: 700, 10, 10). Importing pynwb,
#: hdmf, pandas, scipy and NeuroConv allocates millions of objects, and with the default the collector walks them
#: again and again; with these it runs ~30× less often (imports ~0.1-0.2 s faster) and still collects.
COMMAND_GC_THRESHOLDS = (20_000, 20, 20)


def run() -> None:
    """The ``convert-to-nwb`` command: :func:`main`, then exit with its status.

    The collector runs less often (:data:`COMMAND_GC_THRESHOLDS`), and before exiting every object still alive is
    moved out of its reach (``gc.freeze``): the interpreter's final collection would otherwise walk pynwb's,
    hdmf's, pandas' and scipy's objects one by one, ~0.4 s of a 60 s cell's ~5 s conversion, for memory the
    operating system reclaims at once. The normal shutdown (atexit handlers, flushed streams) still runs. Only the
    command does this: :func:`main` called from Python leaves the collector alone.

    The command runs in a forked child (:mod:`.crash_guard`), so that a crash of a compiled library or the
    out-of-memory killer still ends in one ``error:`` line with no temporary file left behind, and the numerical
    libraries' thread pools are limited to one thread (:func:`limit_library_threads`).
    """
    gc.set_threshold(*COMMAND_GC_THRESHOLDS)
    limit_library_threads()
    argv = sys.argv[1:]
    parent_status = run_in_child(build_parser().parse_args(argv))
    if parent_status is not None:  # the parent: the child ran the command (or crashed, said in one line)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(parent_status)
    status = main(argv)
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    run()
