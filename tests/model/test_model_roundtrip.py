"""Every shared NREL model survives IDF → IDF and IDF → epJSON → model unchanged."""

from __future__ import annotations

from pathlib import Path

from epcloud.model import Schema, load_epjson, load_idf


def test_every_shared_model_round_trips(models_dir: Path, schema: Schema) -> None:
    paths = sorted(models_dir.glob("*.idf"))
    assert len(paths) >= 8
    for path in paths:
        doc = load_idf(path, schema=schema)
        assert doc.version == "25.2", path.name
        text = doc.to_idf()
        again = load_idf(text, schema=schema)
        assert again == doc, path.name
        assert again.to_idf() == text, path.name  # writing is stable
        assert load_idf(doc.to_idf(comments=False), schema=schema) == doc, path.name
        assert load_epjson(doc.to_epjson(), schema=schema) == doc, path.name
        assert load_epjson(doc.to_epjson_text(), schema=schema) == doc, path.name
        assert doc.copy() == doc, path.name


def test_reference_office_contents(models_dir: Path, schema: Schema) -> None:
    doc = load_idf(models_dir / "RefBldgMediumOfficeNew2004_Chicago.idf", schema=schema)
    assert len(doc) == 681 and len(doc["Zone"]) == 18
    assert doc["Building"].one().name == "Ref Bldg Medium Office New2004_v1.3_5.0"
    surface = doc["BuildingSurface:Detailed"][0]
    assert len(surface.vertices) == surface.number_of_vertices
    uncontrolled = load_idf(models_dir / "1ZoneUncontrolled.idf", schema=schema)
    assert uncontrolled["Zone"]["zone one"].line is not None
