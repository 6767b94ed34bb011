"""How a free-text station query is matched and ranked: words, match classes, tie-breaks.

A query matches a station in one of these classes (the result's ``score``): 100 its WMO number, 80 the
first words of its name, 70 whole words of its name, 65 its state or country alone, 60 prefixes (3+
letters) of words of its name, 40 part of its file name. Words naming the station's state or country
may qualify a name match ("chicago il", "paris france"). Within a class come first: stations in the
country with most matches (London, England before London, Ontario), primary stations (a WMO number
ending in 0), international airports, then other airports, an exact name, fewer words, the lower WMO.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["StationKeys", "find", "region_words", "tokens"]

_WORD = re.compile(r"[0-9a-z]+")
_FILLER_WORDS = frozenset({"and", "of", "the"})
_MIN_PREFIX = 3
_INTERNATIONAL_WORDS = frozenset({"intl", "international", "intercontinental"})


def tokens(text: str) -> tuple[str, ...]:
    """Lower-case ASCII words of a name or query: "Chicago.O'Hare-Intl" -> chicago, ohare, intl."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return tuple(_WORD.findall(text.lower().replace("'", "")))


class StationKeys(NamedTuple):
    """What one station is matched on; built for every station on the first search."""

    name: tuple[str, ...]
    station_id: str
    country: str
    state_words: frozenset[str]
    region_words: frozenset[str]
    haystack: str  # the name's words and the WMO number: with ``region_text``, a quick pre-check
    region_text: str
    file_prefix: str
    primary: bool
    airport: int  # 2 international airport, 1 airport, 0 other

    @classmethod
    def build(
        cls,
        name: str,
        station_id: str,
        country: str,
        state: str,
        state_words: frozenset[str],
        region: frozenset[str],
        region_text: str,
    ) -> StationKeys:
        """Keys of one station; the region arguments (its state's and country's words) are shared."""
        words = tokens(name)
        sid = station_id.lower()
        joined = " ".join(words)
        airport = 0
        if "ap" in words or "airport" in words:
            airport = 1 if _INTERNATIONAL_WORDS.isdisjoint(words) else 2
        primary = len(sid) == 6 and sid.isdigit() and sid.endswith("0")
        file_prefix = f"{country}{state}".lower() + joined.replace(" ", "") + sid
        return cls(
            words,
            sid,
            country,
            state_words,
            region,
            f"{joined} {sid}",
            region_text,
            file_prefix,
            primary,
            airport,
        )


def region_words(code: str, name: str) -> frozenset[str]:
    """The words that name a state or country: its code and the words of its name."""
    words = set(tokens(name)) - _FILLER_WORDS
    if code:
        words.add(code.lower())
    return frozenset(words)


def _name_class(query: tuple[str, ...], name: tuple[str, ...]) -> int:
    if name[: len(query)] == query:
        return 80
    if set(query).issubset(name):
        return 70
    if all(len(part) >= _MIN_PREFIX and any(word.startswith(part) for word in name) for part in query):
        return 60
    return 0


def _match(query: tuple[str, ...], keys: StationKeys) -> tuple[int, str]:
    best = _name_class(query, keys.name)
    rest = tuple(word for word in query if word not in keys.region_words)
    if len(rest) == len(query):
        return best, "name" if best else ""
    if rest:
        best = max(best, _name_class(rest, keys.name))
        return best, "name" if best else ""
    if best >= 65:
        return best, "name"
    return 65, "country" if keys.state_words.isdisjoint(query) else "state"


def find(
    query: str, keys: Sequence[StationKeys], allowed: Sequence[bool] | None = None
) -> list[tuple[int, int, str]]:
    """(score, station, matched field) of every station matching ``query``, best first."""
    words = tokens(query)
    if not words:
        return []
    joined = "".join(words)
    candidates = []
    for station, station_keys in enumerate(keys):
        if allowed is not None and not allowed[station]:
            continue
        if station_keys.station_id in words:
            score, matched = 100, "wmo"
        elif all(word in station_keys.haystack or word in station_keys.region_text for word in words):
            score, matched = _match(words, station_keys)
        elif len(joined) >= _MIN_PREFIX and joined in station_keys.file_prefix:
            score, matched = 40, "file"
        else:
            continue
        if score:
            candidates.append((score, station, matched))
    return _rank(candidates, keys, words)


def _rank(
    candidates: list[tuple[int, int, str]], keys: Sequence[StationKeys], words: tuple[str, ...]
) -> list[tuple[int, int, str]]:
    per_country = Counter(keys[station].country for _, station, _ in candidates)

    def order(item: tuple[int, int, str]) -> tuple[int, int, bool, int, bool, int, str]:
        score, station, _ = item
        k = keys[station]
        return (
            -score,
            -per_country[k.country],
            not k.primary,
            -k.airport,
            k.name != words,
            len(k.name),
            k.station_id,
        )

    return sorted(candidates, key=order)
