"""Fixtures shared by the whole suite: the real engine, the shared NREL models, bundled weather."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from epcloud.engine import EnergyPlusConfig, find_energyplus

pytest_plugins = ["fixtures_s3"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("EPCLOUD_SHARED_DIR", REPO_ROOT.parent / "shared"))
CHICAGO = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"


def shared_models_dir() -> Path:
    """The folder of real NREL example models; skips (or fails in CI) when it is absent."""
    models = SHARED_DIR / "models"
    if models.is_dir():
        return models
    reason = f"shared example models not found at {models} (set EPCLOUD_SHARED_DIR)"
    if os.environ.get("EPCLOUD_REQUIRE_SHARED") == "1":
        pytest.fail(reason + "; EPCLOUD_REQUIRE_SHARED=1 makes this an error")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def energyplus() -> EnergyPlusConfig:
    return find_energyplus()


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return shared_models_dir()


@pytest.fixture(scope="session")
def chicago_epw(energyplus: EnergyPlusConfig) -> Path:
    return energyplus.weather_dir / CHICAGO
