"""Render an Altair chart to an SVG string that can sit inline in an offline HTML page.

vl-convert bundles Vega, so nothing is fetched; the namespace declarations are
dropped because inline SVG in HTML does not need them and a report should not
contain a single URL.
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import altair as alt

log = logging.getLogger(__name__)
# d3-format has no Norwegian locale by name
NORWEGIAN_NUMBERS = {"decimal": ",", "thousands": "\u00a0", "grouping": [3], "currency": ["", "\u00a0kr"],
                     "minus": "\u2212"}
_NAMESPACES = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_WARM_UP = '{"mark": "point"}'


def spec_json(chart: "alt.TopLevelMixin") -> str:
    """The chart's Vega-Lite spec (Python work, so it is done where the data is).
    Not validated against the schema here: the tests validate every chart the report draws."""
    return chart.to_json(validate=False)


def spec_svg(spec: str) -> str:
    """Draw a Vega-Lite spec (JSON) as inline SVG."""
    import vl_convert as vlc

    # Norwegian numbers in axes and labels (decimal comma, space between thousands)
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[], format_locale=NORWEGIAN_NUMBERS)
    svg = _NAMESPACES.sub("", svg, count=0)
    return svg.replace("xlink:href", "href")


class SvgDrawer:
    """Draws specs in one separate process while the caller goes on computing tables.

    A process, not a thread: vl-convert's drawing thread makes every pandas/pyarrow call on the
    main thread wait for the GIL (a report's specs took 8× longer beside it). The process starts
    on construction and warms vl-convert up (~1 s), so start it before reading the store.
    If the process cannot start or dies, charts are drawn in this process instead.
    """

    def __init__(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:  # spawn: a fork of a process holding pyarrow/SQLite threads is not safe
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_end_with, initargs=(os.getpid(),))
            self._pool.submit(spec_svg, _WARM_UP)
        except Exception:
            log.warning("no drawing process; charts are drawn in this one", exc_info=True)
            self._pool = None

    def submit(self, spec: str) -> "Drawing":
        """Start drawing ``spec``."""
        if self._pool is not None:
            try:
                return Drawing(spec, self._pool.submit(spec_svg, spec))
            except Exception:
                log.warning("the drawing process is gone; charts are drawn in this one", exc_info=True)
                self._pool = None
        return Drawing(spec, None)

    def close(self) -> None:
        """Stop the drawing process: terminated, since nothing of it is needed once the charts
        are drawn, and the report's exit should not wait for its JavaScript engine to wind down."""
        if self._pool is not None:
            processes = list(getattr(self._pool, "_processes", {}).values())
            manager = getattr(self._pool, "_executor_manager_thread", None)
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            if manager is not None:  # let the pool's own thread finish now: left to the interpreter's
                manager.join(5)  # exit, Python 3.11 can race it and print "Bad file descriptor"
            self._pool = None

    def __enter__(self) -> "SvgDrawer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _end_with(parent: int) -> None:
    """In the drawing process: exit when the report's process is gone, even killed (a drawing
    process left behind would hold the report's terminal or pipes open)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


class Drawing:
    """One chart being drawn; ``result()`` is its SVG (drawn here if the drawing process died)."""

    def __init__(self, spec: str, future: Future | None) -> None:
        self._spec, self._future = spec, future

    def result(self, timeout: float | None = None) -> str:
        if self._future is not None:
            try:
                return self._future.result(timeout)
            except BrokenProcessPool:
                log.warning("the drawing process died; drawing this chart here")
        return spec_svg(self._spec)
