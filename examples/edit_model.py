"""Load a model, read and change objects by their schema field names, and save it as IDF and epJSON."""

from pathlib import Path

from epcloud import UnknownFieldError, load_epjson, load_idf
from epcloud.model import Shoebox

Path("models").mkdir(exist_ok=True)
Path("models/shoebox.idf").write_text(Shoebox().to_idf(), encoding="utf-8")

model = load_idf("models/shoebox.idf")  # a path, or IDF text
print(model)

# A type's objects are a collection indexed by name (case-insensitive) or position.
insulation = model["Material:NoMass"]["wall insulation"]
print(f"{insulation.name}: R = {insulation.thermal_resistance} m2K/W")
insulation.thermal_resistance = 4.0  # field names come from the engine's epJSON schema

zone = model["Zone"].one()  # the only Zone; raises if there are none or several
print(f"zone {zone.name!r}, {len(model['BuildingSurface:Detailed'])} surfaces")

# Add and remove objects; fields are keyword arguments.
model.add(
    "Output:Variable", key_value="*", variable_name="Zone Air Relative Humidity", reporting_frequency="Hourly"
)
for meter in model["Output:Meter"]:
    if meter.key_name == "Electricity:Facility":
        model.remove(meter)
print(f"meters now: {[meter.key_name for meter in model['Output:Meter']]}")

try:
    insulation.r_value = 5.0
except UnknownFieldError as exc:
    print(f"caught: {exc}")

# copy() is deep: a variant never changes the original.
variant = model.copy()
variant["Material:NoMass"]["Wall Insulation"].thermal_resistance = 6.0
assert model["Material:NoMass"]["Wall Insulation"].thermal_resistance == 4.0

model.save("models/shoebox-r4.idf")
model.save("models/shoebox-r4.epJSON")  # the suffix chooses the format
again = load_epjson("models/shoebox-r4.epJSON")
print(f"epJSON round trip equal: {again == model}")
