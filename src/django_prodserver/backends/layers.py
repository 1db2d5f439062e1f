"""Merging option layers: later sources win, and a value the user set owns its whole group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from django_prodserver.args import STRONG_SOURCES, Setting, as_list


def merge(layers: Sequence[Sequence[Setting]], option_groups: Sequence[frozenset[str]]) -> list[Setting]:
    """Later layers win. Within an option group (e.g. host/port) a value the user set
    (ARGS, command line) or the backend needs owns the whole group: a ``PORT`` from the
    environment must not add a second address next to the ``bind`` in ARGS."""
    merged: dict[str, Setting] = {}
    for layer in layers:
        for setting in layer:
            dest = setting.option.dest
            group = frozenset().union(*(g for g in option_groups if dest in g))
            if setting.source in STRONG_SOURCES:
                for other in group & merged.keys():
                    if merged[other].source not in STRONG_SOURCES:
                        del merged[other]
            elif any(merged[other].source in STRONG_SOURCES for other in group & merged.keys()):
                continue
            entry = setting
            previous = merged.get(dest)
            if previous and setting.option.repeatable and previous.source == setting.source:
                entry = replace(previous, value=as_list(previous.value) + as_list(setting.value))
            merged[dest] = entry
    return list(merged.values())
