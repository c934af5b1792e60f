"""Writing to a text or binary file object, flushed as its kind wants.

As in ``_pyio``: a raw write may be short, so writing loops until all is
written; `close()` flushes in ``try`` and lets go in ``finally`` and may be
called twice. A reader that went away (``BrokenPipeError``, ``EPIPE``) is
not an error: it becomes `ReaderGone`, which the driver turns into a quiet
stop. Any other ``OSError`` becomes a `SinkError` that names the stream.
"""

from __future__ import annotations

import codecs
import errno
import io
import os
import sys
from collections.abc import Mapping
from typing import Any, Literal

from .._pipes import grow_pipe
from ..errors import SinkError, UsageError
from .detect import (
    DEFAULT_FLUSH,
    FlushPolicy,
    SinkKind,
    TerminalInfo,
    handled_kind,
    is_terminal,
    sink_kind,
)

__all__ = ["ENCODING_ERRORS", "EncodingErrors", "ReaderGone", "StreamSink", "quiet_stdout"]


def quiet_stdout() -> None:
    """After stdout's reader went away (or stdout failed), make the interpreter's last flush harmless.

    What stdout's buffer still holds can never be written; at exit Python
    would try, and print "Exception ignored ... BrokenPipeError". Pointing
    the descriptor at /dev/null lets that flush succeed, writing nothing.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except Exception:
        pass


class ReaderGone(Exception):
    """The reading end of the output went away (``| head``); stop quietly."""


def _is_binary(file: Any) -> bool:
    if isinstance(file, io.TextIOBase):
        return False
    if isinstance(file, io.RawIOBase | io.BufferedIOBase):
        return True
    return "b" in str(getattr(file, "mode", ""))


def _name(file: Any) -> str:
    name = getattr(file, "name", None)
    if name in (1, "<stdout>"):
        return "stdout"
    if name in (2, "<stderr>"):
        return "stderr"
    return str(name) if name is not None else type(file).__name__


EncodingErrors = Literal["replace", "namereplace", "backslashreplace"]
ENCODING_ERRORS: tuple[EncodingErrors, ...] = ("replace", "namereplace", "backslashreplace")

# SGR 0: what a terminal is left with when a stream that let colours through
# (escapes "sgr" or "raw") ends or is interrupted mid-colour.
_RESET_ATTRIBUTES = "\x1b[0m"


_ASCII = "".join(map(chr, range(128)))


def ascii_compatible(encoding: str) -> bool:
    """Whether `encoding` writes ASCII as ASCII's own bytes (what a terminal expects of
    any encoding; UTF-16 and EBCDIC do not)."""
    try:
        return codecs.encode(_ASCII, encoding) == _ASCII.encode("ascii")
    except (LookupError, UnicodeError):
        return False


class StreamSink:
    """A file object as the pipeline's output.

    Args:
        file: any object with ``write``: a text stream gets ``str``, a binary
            one gets bytes from an incremental encoder.
        flush: when to flush; None picks by the stream's kind (`DEFAULT_FLUSH`).
        terminal: force the terminal answer; None detects it.
        encoding: for binary streams.
        encoding_errors: what a character the encoding cannot represent
            becomes: ``"replace"`` (``?``), ``"namereplace"`` (``\\N{...}``)
            or ``"backslashreplace"`` (``\\xNN``). Applies to text streams
            too, whatever their own ``errors`` say: never a crash.
        fsync: after the last flush, ``os.fsync`` a stream that has a
            file descriptor, for durability.
        env: the environment to detect with; `os.environ` by default.
        info: what `file` is, detected already (`terminal_info`): `terminal`
            and `env` are then not looked at.
    """

    def __init__(
        self,
        file: Any,
        *,
        flush: FlushPolicy | None = None,
        terminal: bool | None = None,
        encoding: str = "utf-8",
        encoding_errors: EncodingErrors = "replace",
        fsync: bool = False,
        env: Mapping[str, str] | None = None,
        info: TerminalInfo | None = None,
    ) -> None:
        if not callable(getattr(file, "write", None)):
            raise TypeError(f"cannot write to a {type(file).__name__}: it has no write() method")
        if encoding_errors not in ENCODING_ERRORS:
            raise ValueError(
                f"encoding_errors must be one of {', '.join(ENCODING_ERRORS)}, not {encoding_errors!r}"
            )
        self.file = file
        self.name = _name(file)
        self.is_stdout = file is sys.stdout or file is sys.__stdout__
        if info is None:
            self.is_terminal = is_terminal(file, env, force=terminal)
            self.kind: SinkKind = handled_kind(sink_kind(file), self.is_terminal)
        else:
            self.is_terminal, self.kind = info.is_terminal, info.handled_kind
        self.flush_policy: FlushPolicy = DEFAULT_FLUSH[self.kind] if flush is None else flush
        if self.kind is SinkKind.PIPE:
            grow_pipe(file.fileno())
        self._binary = _is_binary(file)
        if self._binary and self.is_terminal and not ascii_compatible(encoding):
            raise UsageError(
                f"the encoding {encoding} is not ASCII-compatible: a terminal would read its "
                "bytes as other characters and controls; give it to a file or a pipe"
            )
        self.encoding_errors = encoding_errors
        self._encoder = (
            codecs.getincrementalencoder(encoding)(encoding_errors) if self._binary else None
        )
        self._utf8_target = self._bytes_of_utf8(file, encoding)
        self.fsync = fsync
        self.n_writes = 0
        self.n_flushes = 0
        self.closed = False
        self.ends_with_newline = True
        self._wrote_escape = False

    def write(self, text: str) -> None:
        if self.closed:
            raise SinkError(f"cannot write to {self.name}: the stream has ended")
        if not text:
            return
        try:
            if self.flush_policy == "line":
                # Complete lines are flushed; a partial line waits for its
                # newline (or the end), as a reader of whole lines wants.
                end = text.rfind("\n") + 1
                if end:
                    self._put(text[:end])
                    self._flush()
                if end < len(text):
                    self._put(text[end:])
            else:
                self._put(text)
                if self.flush_policy in ("frame", "chunk"):
                    self._flush()
        except Exception as exc:
            raise self._translate(exc) from exc

    def _put(self, text: str) -> None:
        if self._encoder is not None:
            self._write_all(self._encoder.encode(text))
        else:
            self._write_text(text)
        self.n_writes += 1
        self.ends_with_newline = text.endswith("\n")
        if "\x1b" in text:
            self._wrote_escape = True

    def write_utf8(self, text: str, utf8: bytes) -> None:
        """`write(text)`, given `utf8`, the UTF-8 of `text`: written as it is where the
        stream's bytes are UTF-8 (no encoding again), else `text` is written."""
        target = self._utf8_target
        if target is None or self.closed or self.flush_policy not in ("chunk", "frame"):
            self.write(text)
            return
        if not text:
            return
        try:
            self._write_all(utf8, target)
            self.n_writes += 1
            self.ends_with_newline = text.endswith("\n")
            if b"\x1b" in utf8:
                self._wrote_escape = True
            self._flush()
        except Exception as exc:
            raise self._translate(exc) from exc

    @staticmethod
    def _bytes_of_utf8(file: Any, encoding: str) -> Any:
        """Where `write_utf8` may write UTF-8 bytes for `file` (None: nowhere).

        A binary stream whose encoding here is UTF-8; or the interpreter's own
        stdout or stderr when their encoding is UTF-8 and a newline is written
        as it is (POSIX): TextIOWrapper would encode the text to the same
        bytes. Another text stream may translate newlines, which nothing
        public tells, so it gets text. Every write through the text layer is
        flushed before one of bytes (`write_utf8` needs a flushing policy).
        """
        try:
            if _is_binary(file):
                return file if codecs.lookup(encoding).name == "utf-8" else None
            if file not in (sys.__stdout__, sys.__stderr__) or os.linesep != "\n":
                return None
            if codecs.lookup(file.encoding).name != "utf-8":
                return None
            return file.buffer
        except (AttributeError, LookupError, TypeError, ValueError):
            return None

    def _write_text(self, text: str) -> None:
        try:
            self.file.write(text)
        except UnicodeEncodeError as exc:
            # A stream whose encoding cannot hold the text (ASCII under
            # LANG=C, a lone surrogate): TextIOWrapper encodes before it
            # writes, so nothing was written; write it again, representable.
            encoding = exc.encoding
            self.file.write(text.encode(encoding, self.encoding_errors).decode(encoding))

    def _write_all(self, data: bytes, file: Any = None) -> None:
        view = memoryview(data)
        write = (self.file if file is None else file).write
        while view:
            n = write(view)
            if n is None:  # a non-blocking raw stream that would block
                n = 0
            view = view[n:]

    def _flush(self) -> None:
        flush = getattr(self.file, "flush", None)
        if flush is not None:
            flush()
            self.n_flushes += 1

    def restore(self) -> None:
        """Leave a terminal as it was found: attributes reset if colours went through."""
        if self.is_terminal and self._wrote_escape and not self.closed:
            self._wrote_escape = False
            at_line_start = self.ends_with_newline
            self.write(_RESET_ATTRIBUTES)
            self.ends_with_newline = at_line_start  # a reset moves no cursor

    def close(self) -> None:
        """Restore the terminal, flush, fsync if asked; the file object stays open (it is the caller's)."""
        if self.closed:
            return
        try:
            self.restore()
            self.closed = True
            self._flush()
            if self.fsync and self.kind is SinkKind.FILE:
                self._fsync()
        except Exception as exc:
            self.closed = True
            raise self._translate(exc) from exc

    def wait(self, timeout: float | None = None) -> None:
        """Nothing to wait for: writes are done when `write` returns."""

    def _fsync(self) -> None:
        try:
            fd = self.file.fileno()
        except Exception:
            return  # nothing on disk to make durable
        os.fsync(fd)

    def _translate(self, exc: BaseException) -> BaseException:
        if isinstance(exc, BrokenPipeError) or (
            isinstance(exc, OSError) and exc.errno in (errno.EPIPE, errno.ECONNRESET)
        ):
            self.closed = True
            return ReaderGone()
        if isinstance(exc, OSError):
            reason = exc.strerror or str(exc)
            return SinkError(f"cannot write to {self.name}: {reason}")
        if isinstance(exc, ValueError) and "closed" in str(exc):
            self.closed = True
            return SinkError(f"cannot write to {self.name}: it is closed")
        return exc
