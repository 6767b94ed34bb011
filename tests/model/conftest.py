"""Fixtures of the model tests: the engine's schema and a small model that uses every kind of field."""

from __future__ import annotations

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.model import IDFDocument, Schema, get_schema, load_idf

SMALL_IDF = """\
! A small model: comments, odd spacing and every kind of field the tests need.
Version, 25.2;

Building,
    Test Building,           !- Name
    0,                       !- North Axis {deg}
    Suburbs,                 !- Terrain
    0.04, 0.4,               ! two fields on one line
    FullExterior, 25, 6;

Zone, ZONE ONE, 0, 0, 0, 0, 1, 1, autocalculate, autocalculate;   ! line 11
Zone,
    Zone Two,                !- Name
    0.50000;                 !- Direction of Relative North {deg}

Material:NoMass, R13, Rough, 2.29, 0.9, 0.75, 0.75;

BuildingSurface:Detailed,
    Floor 1, Floor, FLOOR, ZONE ONE, , Ground, , NoSun, NoWind, 0, 4,
    0, 0, 0,
    0, 10, 0,
    10, 10, 0,
    10, 0, 0;

Schedule:Compact,
    Always On, Fraction,
    Through: 12/31, For: AllDays, Until: 24:00, 1.0;

Output:Variable, *, Zone Mean Air Temperature, Hourly;
Output:Variable, *, Site Outdoor Air Drybulb Temperature, Timestep;
"""


@pytest.fixture(scope="session")
def schema(energyplus: EnergyPlusConfig) -> Schema:
    return get_schema(energyplus)


@pytest.fixture
def small(schema: Schema) -> IDFDocument:
    return load_idf(SMALL_IDF, schema=schema)


@pytest.fixture
def small_text() -> str:
    return SMALL_IDF
