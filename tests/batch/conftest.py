"""Batch fixtures: counting engine launches, a private cache folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def engine_runs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records every EnergyPlus (and ExpandObjects) command this process launches; they still run."""
    import epcloud.run.expand as core  # where runs are launched

    launched: list[list[str]] = []
    real: Callable[..., Any] = core.run_process

    def counting(cmd: list[str], **kwargs: Any) -> Any:
        launched.append(list(cmd))
        return real(cmd, **kwargs)

    monkeypatch.setattr(core, "run_process", counting)
    return launched


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "epcloud-cache"
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(cache))
    return cache
