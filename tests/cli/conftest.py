from __future__ import annotations

import io

import pytest

from ..clirun import API_KEY


@pytest.fixture
def env(monkeypatch):
    """Model settings as `outstream ask` would find them: only an API key, and no stdin."""
    for name in ("OUTSTREAM_BASE_URL", "OPENAI_BASE_URL", "OUTSTREAM_MODEL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # a pipe with nothing in it
    return monkeypatch
