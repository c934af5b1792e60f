"""A real IPython kernel for tests: run code in it, collect what the notebook would show.

`Kernel.start` launches ``python -m ipykernel_launcher`` with this test
process's interpreter and this test process's `outstream` (its directory
leads ``PYTHONPATH``), through `jupyter_client`, from a kernel spec written
for the purpose, so that no kernel spec installed on the machine is used.
`Kernel.run` executes a cell and returns, in the order the kernel sent them,
the IOPub messages a front end turns into the cell's output.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import outstream

# The IOPub message types that make a cell's output (Jupyter messaging spec, "IOPub").
OUTPUT_TYPES = frozenset(
    {"stream", "display_data", "update_display_data", "execute_result", "error", "clear_output"}
)

# Terminal settings of whoever runs the tests must not reach the kernel.
_CLEARED_ENV = (
    "FORCE_COLOR",
    "NO_COLOR",
    "TERM",
    "COLUMNS",
    "LINES",
    "TTY_COMPATIBLE",
    "PYTHONUNBUFFERED",
    "PYTEST_CURRENT_TEST",  # ipykernel skips its fd capture under pytest; a notebook does not
)


class KernelStartError(Exception):
    """The kernel did not start; the message ends with its log."""


@dataclass(frozen=True)
class Output:
    """One IOPub message of a cell's output."""

    msg_type: str
    content: dict[str, Any]

    @property
    def text(self) -> str:
        """A ``stream`` message's text."""
        return str(self.content["text"])

    @property
    def data(self) -> dict[str, Any]:
        """A display message's MIME bundle."""
        return dict(self.content["data"])

    @property
    def display_id(self) -> str | None:
        return self.content.get("transient", {}).get("display_id")  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Cell:
    """What running one cell gave: its outputs in order, and the reply's status."""

    outputs: list[Output]
    status: str

    def streams(self, name: str = "stdout") -> list[str]:
        """The texts of the ``stream`` messages to `name`, in order."""
        return [
            o.text for o in self.outputs if o.msg_type == "stream" and o.content["name"] == name
        ]

    def displays(self) -> list[Output]:
        return [o for o in self.outputs if o.msg_type in ("display_data", "update_display_data")]


class Kernel:
    """A running kernel and a blocking client connected to it."""

    def __init__(self, manager: Any, client: Any, log_path: Path) -> None:
        self.manager = manager
        self.client = client
        self.log_path = log_path

    @classmethod
    def start(cls, directory: Path, *, timeout: float = 30.0) -> Kernel:
        """Start a kernel whose spec, connection file and log live in `directory`.

        Raises:
            KernelStartError: it did not start or answer within `timeout` seconds.
        """
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        spec_dir = directory / "kernels" / "outstream-test"
        spec_dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        spec = {"argv": argv, "display_name": "outstream tests", "language": "python"}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))

        env = {k: v for k, v in os.environ.items() if k not in _CLEARED_ENV}
        package_root = str(Path(outstream.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
        env["JUPYTER_PLATFORM_DIRS"] = "1"  # jupyter_core's path-migration warning
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # debugpy's "frozen modules" notice

        log_path = directory / "kernel.log"
        manager = KernelManager(
            kernel_name="outstream-test",
            kernel_spec_manager=KernelSpecManager(
                kernel_dirs=[str(directory / "kernels")], ensure_native_kernel=False
            ),
            connection_file=str(directory / "connection.json"),
        )
        with log_path.open("wb") as log:
            try:
                manager.start_kernel(env=env, stdout=log, stderr=log)
            except Exception as exc:
                raise KernelStartError(f"{exc}\n{_tail(log_path)}") from exc
        client = manager.client()
        client.start_channels()
        kernel = cls(manager, client, log_path)
        try:
            client.wait_for_ready(timeout=timeout)
        except Exception as exc:
            kernel.shutdown()
            raise KernelStartError(f"{exc}\n{_tail(log_path)}") from exc
        return kernel

    def run(self, code: str, *, timeout: float = 60.0, allow_error: bool = False) -> Cell:
        """Execute `code` as a cell; return its outputs once the kernel is idle again.

        `timeout` only guards against a hang (no message, or no end, for that
        long); nothing is asserted about how long the cell took.
        """
        msg_id = self.client.execute(code)
        outputs: list[Output] = []
        give_up = time.monotonic() + timeout
        while True:
            msg = self._next(self.client.get_iopub_msg, give_up, code)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue  # another cell's late output, or the kernel's own status
            msg_type = msg["msg_type"]
            if msg_type == "status" and msg["content"]["execution_state"] == "idle":
                break
            if msg_type in OUTPUT_TYPES:
                outputs.append(Output(msg_type, msg["content"]))
        while True:
            reply = self._next(self.client.get_shell_msg, give_up, code)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        status = str(reply["content"]["status"])
        if status != "ok" and not allow_error:
            errors = [o.content for o in outputs if o.msg_type == "error"]
            details = "\n".join("\n".join(e.get("traceback", [])) for e in errors)
            raise AssertionError(f"the cell failed ({status}):\n{code}\n{details}")
        return Cell(outputs, status)

    def _next(self, get: Any, give_up: float, code: str) -> dict[str, Any]:
        wait = max(give_up - time.monotonic(), 0.1)
        try:
            return get(timeout=wait)  # type: ignore[no-any-return]
        except queue.Empty:
            raise AssertionError(
                f"the kernel went silent while running:\n{code}\n{_tail(self.log_path)}"
            ) from None

    def shutdown(self) -> None:
        """Stop the channels and the kernel; safe to call twice."""
        try:
            self.client.stop_channels()
        finally:
            if self.manager.has_kernel:
                self.manager.shutdown_kernel(now=False)


def _tail(path: Path, n_chars: int = 2000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no kernel log)"
    return "kernel log:\n" + text[-n_chars:] if text else "(the kernel logged nothing)"
