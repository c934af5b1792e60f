"""Jupyter: plain text into a cell's output, and a live region updated in place.

Theory of operation: in a kernel, ``sys.stdout`` is ipykernel's `OutStream`.
It buffers writes and sends one ``stream`` message on the IOPub socket when
flushed, or by itself some 0.2 s after a write (``OutStream.flush_interval``).
`detect.sink_kind` names it `SinkKind.JUPYTER`, which counts as a terminal
(so the default pace is `Smooth` and text is released once per frame) and is
flushed every frame (`DEFAULT_FLUSH`): the plain `StreamSink` already sends
one ``stream`` message per frame, at most 60 a second, and the notebook shows
the text as it comes. ``OutStream.flush`` is safe from any thread: off the
kernel's IOPub thread it hands the send to that thread and waits for it
(ipykernel ``iostream.py``), so `outstream.Writer`'s driver thread streams
too. This module holds what `StreamSink` cannot do: a region that is
replaced, not appended to — the open Markdown block — shown through a
display handle (``display(obj, display_id=True)``, then ``update_display``)
that the front end redraws in place.

Nothing here imports IPython or ipykernel at import time: they load only
when a live display is first shown, and only if the program runs in IPython.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ..errors import SinkError
from .detect import SinkKind, sink_kind

__all__ = ["LIVE_KINDS", "LiveDisplay", "LiveKind", "in_notebook"]

LiveKind = Literal["text", "markdown"]
LIVE_KINDS: tuple[LiveKind, ...] = ("text", "markdown")


def _text_bundle(text: str) -> dict[str, str]:
    return {"text/plain": text}


def _markdown_bundle(text: str) -> dict[str, str]:
    # text/plain too: a front end that cannot render Markdown (a console,
    # `jupyter nbconvert --to script`) shows the source, not IPython's
    # "<IPython.core.display.Markdown object>".
    return {"text/markdown": text, "text/plain": text}


# The MIME bundle each kind of live region is shown as.
_BUNDLES: Mapping[LiveKind, Callable[[str], dict[str, str]]] = {
    "text": _text_bundle,
    "markdown": _markdown_bundle,
}


def in_notebook(stream: Any = None) -> bool:
    """Whether `stream` (``sys.stdout`` by default) is a Jupyter kernel's output stream."""
    return sink_kind(sys.stdout if stream is None else stream) is SinkKind.JUPYTER


def _ipython_display() -> Any:
    """``IPython.display``, if the program runs in IPython; None otherwise.

    Returned as `Any`: the boundary with IPython is untyped on purpose, so
    that mypy's answer does not change with the IPython version installed
    (older ones ship no annotations for `display` and `DisplayHandle`).
    """
    ipython = sys.modules.get("IPython")  # never imported here: a kernel has it already
    if ipython is None or ipython.get_ipython() is None:
        return None
    import importlib

    return importlib.import_module("IPython.display")


class LiveDisplay:
    """A region of a notebook cell's output that is redrawn in place.

    The first `update` shows the text with ``display(..., display_id=True)``;
    later ones replace it through the display handle (an
    ``update_display_data`` message), so the front end redraws that one
    output where it stands, below whatever was written before it. An update
    with the text already shown sends nothing. Pacing is the caller's job:
    each `update` sends at once, so call it at most once per frame.

    Meant for a notebook (see `in_notebook`): in terminal IPython every
    update is printed anew. Not thread-safe: call it from one thread at a
    time (any thread; ipykernel sends from its IOPub thread whichever
    thread asks).

    Args:
        kind: ``"text"`` shows the text as it is (``text/plain``);
            ``"markdown"`` renders it (``text/markdown``, with the source as
            ``text/plain`` for front ends without Markdown).

    Raises:
        ValueError: `kind` is not one of `LIVE_KINDS`.
    """

    def __init__(self, kind: LiveKind = "text") -> None:
        if kind not in _BUNDLES:
            raise ValueError(f"kind must be one of {', '.join(LIVE_KINDS)}, not {kind!r}")
        self.kind: LiveKind = kind
        self.display_id: str | None = None  # set when first shown
        self.text = ""  # what is shown now
        self.n_updates = 0  # messages sent: the display, then each update
        self.closed = False
        self._bundle = _BUNDLES[kind]
        self._handle: Any = None  # IPython.display.DisplayHandle

    def __enter__(self) -> LiveDisplay:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close()

    def update(self, text: str) -> None:
        """Show `text` in place of what the region showed.

        Raises:
            SinkError: the program does not run in IPython, so there is
                nothing to display into.
            ValueError: the display is closed.
        """
        if self.closed:
            raise ValueError("update() on a closed LiveDisplay")
        if self._handle is not None and text == self.text:
            return
        bundle = self._bundle(text)
        if self._handle is None:
            display = _ipython_display()
            if display is None:
                raise SinkError("cannot show a live display: the program does not run in IPython")
            handle = display.display(bundle, raw=True, display_id=True)
            if handle is None:  # IPython printed it: it has no display to update
                raise SinkError("cannot show a live display: IPython has no display here")
            self.display_id = str(handle.display_id)
            self._handle = handle
        else:
            self._handle.update(bundle, raw=True)
        self.text = text
        self.n_updates += 1

    def close(self, text: str | None = None) -> None:
        """The final update: show `text` (if given) and let go of the display.

        What is shown stays in the cell's output. Closing twice does nothing.
        """
        if self.closed:
            return
        try:
            if text is not None:
                self.update(text)
        finally:
            self.closed = True
            self._handle = None
