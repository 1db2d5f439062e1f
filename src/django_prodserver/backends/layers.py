"""Merging option layers: later sources win, and a value the user set owns its whole group."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from django_prodserver.args import STRONG_SOURCES, Setting, as_list
from django_prodserver.records import replace

#: Given the user's setting and the environment's one for the same option, the two combined
#: (a host from ARGS with the port from ``PORT``), or None when the user's replaces it.
Combine = Callable[[Setting, Setting | None], Setting | None]


def merge(
    layers: Sequence[Sequence[Setting]],
    option_groups: Sequence[frozenset[str]],
    host_options: Collection[str] = (),
    combine: Combine | None = None,
) -> list[Setting]:
    """Later layers win. Within an option group (e.g. host/port) a value the user set
    (ARGS, command line) or the backend needs owns the whole group: a ``PORT`` from the
    environment must not add a second address next to the ``bind`` in ARGS. A host alone
    (``host_options``) owns only itself, so the environment's port stays."""
    merged: dict[str, Setting] = {}

    def owns_group(setting: Setting) -> bool:
        return setting.source in STRONG_SOURCES and setting.option.dest not in host_options

    for layer in layers:
        for setting in layer:
            dest = setting.option.dest
            group = frozenset().union(*(g for g in option_groups if dest in g))
            previous = merged.get(dest)
            if setting.source in STRONG_SOURCES:
                combined = combine(setting, previous) if combine else None
                if combined is not None:
                    merged[dest] = combined
                    continue
                if dest not in host_options:
                    for other in group & merged.keys():
                        if merged[other].source not in STRONG_SOURCES:
                            del merged[other]
            elif any(owns_group(merged[other]) for other in group & merged.keys()):
                continue
            entry = setting
            if previous and setting.option.repeatable and previous.source == setting.source:
                entry = replace(previous, value=as_list(previous.value) + as_list(setting.value))
            merged[dest] = entry
    return list(merged.values())
