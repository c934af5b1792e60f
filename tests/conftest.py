from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see neither the developer's terminal settings nor PYTHONUNBUFFERED."""
    for name in (
        "FORCE_COLOR",
        "NO_COLOR",
        "TERM",
        "COLUMNS",
        "LINES",
        "TTY_COMPATIBLE",
        "PYTHONUNBUFFERED",
    ):
        monkeypatch.delenv(name, raising=False)
