"""Frozen value types whose definition costs nothing at start-up.

Why not ``@dataclass(frozen=True)``: up to Python 3.12 a dataclass writes six methods for each
class as source text and compiles them with ``exec`` when its module is imported: on every
start, since that code is not in any ``.pyc``. That is about 3.6 million instructions a class
(Python 3.11), and a server's start path holds a dozen of them: about 5 % of a start, which
weighs most on waitress, a server that imports little else (benchmarks/README.md). A record
gets the same behaviour from methods written once, here, that read the class' field list.

What a record is, as a frozen dataclass is: construction by position or keyword in field
order, defaults (a mutable one refused) and ``field(default_factory=..., init=...)``,
``__post_init__``, fields that cannot be set or deleted (``FrozenInstanceError``), equality and
a hash over the fields (same class only), a repr naming them, ``match`` by position and
``copy.replace``. Type checkers read ``@record`` as a frozen dataclass (PEP 681), and check
``replace()`` calls as they check ``dataclasses.replace``. ``replace()`` and ``field_names()``
stand in for ``dataclasses.replace`` and ``dataclasses.fields`` here; a project's code written
for the dataclasses these were (``dataclasses.replace(process, ...)``, ``asdict``, a
``@dataclass`` subclass) still works, through the attributes of a real dataclass made the
first time something asks for them. Not the same: ``inspect.signature`` of a record's class
shows ``(*args, **kwargs)``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator


T = TypeVar("T")

#: A field with neither default nor factory: the caller must give it.
_REQUIRED = object()
#: ``ClassVar[...]`` however the module spelt it (``typing.ClassVar``, ``t.ClassVar``): not a field.
_CLASS_VAR = re.compile(r"(?:\w+\.)*ClassVar\b")


class FrozenRecordError(dataclasses.FrozenInstanceError):
    """A field of a record was set or deleted after construction.

    A ``dataclasses.FrozenInstanceError`` (and so an ``AttributeError``), so code that caught
    it from the dataclasses these records were still does.
    """


class _Field:
    __slots__ = ("default", "factory", "init")

    def __init__(self, default: Any, factory: Callable[[], Any] | None, init: bool) -> None:
        self.default, self.factory, self.init = default, factory, init


def field(
    *, default: Any = _REQUIRED, default_factory: Callable[[], Any] | None = None, init: bool = True
) -> Any:
    """A field's default computed per instance (``default_factory``), or left out of ``__init__``."""
    return _Field(default, default_factory, init)


class _Spec:
    """One record class' fields, read once when the class is defined."""

    __slots__ = ("names", "init_names", "defaults", "factories")

    def __init__(self, cls: type) -> None:
        #: Every field, in order, and whether ``__init__`` takes it. A field a subclass
        #: declares again keeps its place and takes the new declaration, as with dataclasses.
        in_init: dict[str, bool] = {}
        self.defaults: dict[str, Any] = {}
        self.factories: dict[str, Callable[[], Any]] = {}
        for base in reversed(cls.__mro__[1:]):
            spec = base.__dict__.get("__record__")
            if spec is not None:
                in_init.update((name, name in spec.init_names) for name in spec.names)
                self.defaults.update(spec.defaults)
                self.factories.update(spec.factories)
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if _CLASS_VAR.match(str(annotation).strip()):
                continue
            self.defaults.pop(name, None)
            self.factories.pop(name, None)
            # getattr, as dataclasses do: a field declared again without a default keeps the
            # one a base class gave it.
            value = getattr(cls, name, _REQUIRED)
            in_init[name] = True
            if isinstance(value, _Field):
                if value.factory is not None:
                    self.factories[name] = value.factory
                in_init[name] = value.init
                value = value.default
                if value is _REQUIRED:
                    delattr(cls, name)  # the placeholder must not read as a class default
                else:
                    setattr(cls, name, value)
            if value is not _REQUIRED:
                if type(value).__hash__ is None:  # a list, dict or set would be shared by all
                    raise ValueError(
                        f"mutable default {type(value).__name__} for field {name!r} of "
                        f"{cls.__name__}: use field(default_factory=...)"
                    )
                self.defaults[name] = value
        self.names = tuple(in_init)
        self.init_names = tuple(name for name, taken in in_init.items() if taken)


class _StdlibTwin:
    """An attribute the ``dataclasses`` module reads, taken from a real frozen dataclass with the
    record's fields, made the first time something asks (``dataclasses.replace``, ``asdict``,
    or a ``@dataclass`` subclass of a record).

    So they are whatever the running Python's ``dataclasses`` expects; building the twin costs
    what the record saved, once per class, and only in a process that asks.
    """

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, instance: object, owner: type) -> Any:
        twin = owner.__dict__.get("_stdlib_twin")
        if twin is None:
            spec: _Spec = owner.__record__  # type: ignore[attr-defined]
            annotations: dict[str, Any] = {}
            for klass in reversed(owner.__mro__):
                annotations.update(klass.__dict__.get("__annotations__", {}))
            fields = []
            for name in spec.names:
                init = name in spec.init_names
                if name in spec.factories:
                    described = dataclasses.field(default_factory=spec.factories[name], init=init)
                else:
                    default = spec.defaults.get(name, dataclasses.MISSING)
                    described = dataclasses.field(default=default, init=init)
                fields.append((name, annotations[name], described))
            twin = dataclasses.make_dataclass(owner.__name__, fields, frozen=True)
            type.__setattr__(owner, "_stdlib_twin", twin)
        return getattr(twin, self.attribute)


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    spec: _Spec = type(self).__record__
    if len(args) > len(spec.init_names):
        raise TypeError(f"{type(self).__name__}() takes {len(spec.init_names)} arguments, got {len(args)}")
    values = dict(zip(spec.init_names, args, strict=False))  # fewer args than fields: the rest by name
    for name, value in kwargs.items():
        if name not in spec.init_names or name in values:
            why = "an unexpected" if name not in spec.init_names else "a repeated"
            raise TypeError(f"{type(self).__name__}() got {why} argument {name!r}")
        values[name] = value
    for name in spec.names:
        if name in values:
            continue
        if name in spec.factories:
            values[name] = spec.factories[name]()
        elif name in spec.defaults:
            values[name] = spec.defaults[name]
        elif name in spec.init_names:
            raise TypeError(f"{type(self).__name__}() is missing the argument {name!r}")
        # else: a field left out of __init__ without a default, for __post_init__ to set.
    self.__dict__.update(values)
    post_init = getattr(self, "__post_init__", None)
    if post_init is not None:
        post_init()


def _values(self: Any) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__record__.names)


def _eq(self: Any, other: object) -> Any:  # a bool, or NotImplemented for another class
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(_values(self) == _values(other))


def _hash(self: Any) -> int:
    return hash(_values(self))


def _repr(self: Any) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record__.names)
    return f"{type(self).__qualname__}({fields})"


def _frozen_rules(cls: type) -> tuple[Callable[..., None], Callable[..., None]]:
    """``__setattr__`` and ``__delattr__`` that refuse, as a frozen dataclass' do, any attribute of
    ``cls`` itself and the fields of any subclass; an undecorated subclass keeps its other
    attributes settable. Closures, not generated code: nothing is compiled."""
    fields = frozenset(cls.__record__.names)  # type: ignore[attr-defined]

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in fields:
            raise FrozenRecordError(f"cannot assign to field {name!r} of {type(self).__name__}")
        super(cls, self).__setattr__(name, value)  # type: ignore[arg-type]

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in fields:
            raise FrozenRecordError(f"cannot delete field {name!r} of {type(self).__name__}")
        super(cls, self).__delattr__(name)  # type: ignore[arg-type]

    return __setattr__, __delattr__


def _replace_method(self: Any, /, **changes: Any) -> Any:
    """``copy.replace()`` (Python 3.13) on a record."""
    return replace(self, **changes)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen value with the fields its annotations declare (see the module)."""
    spec = cls.__record__ = _Spec(cls)  # type: ignore[attr-defined]
    methods: dict[str, Any] = {
        "__init__": _init,
        "__eq__": _eq,
        "__hash__": _hash,
        "__repr__": _repr,
        "__match_args__": spec.init_names,
        "__replace__": _replace_method,
    }
    for name, method in methods.items():
        if name not in cls.__dict__ or (name == "__hash__" and cls.__dict__[name] is None):
            setattr(cls, name, method)  # what the class writes itself wins, as with dataclasses
    cls.__setattr__, cls.__delattr__ = _frozen_rules(cls)  # type: ignore[method-assign,assignment]
    cls.__dataclass_fields__ = _StdlibTwin("__dataclass_fields__")  # type: ignore[attr-defined]
    cls.__dataclass_params__ = _StdlibTwin("__dataclass_params__")  # type: ignore[attr-defined]
    return cls


def field_names(cls: type) -> tuple[str, ...]:
    """The fields of a record class, in order (``dataclasses.fields`` for records)."""
    return tuple(cls.__record__.names)  # type: ignore[attr-defined]


if TYPE_CHECKING:
    # mypy checks each change's name and type against the record's fields (PEP 681 classes
    # are dataclasses to its replace() plugin); at run time the function below does the work.
    from dataclasses import replace
else:

    def replace(original: T, /, **changes: Any) -> T:
        """A copy of ``original`` with ``changes`` (``dataclasses.replace`` for records)."""
        spec: _Spec = type(original).__record__  # type: ignore[attr-defined]
        arguments = {name: original.__dict__[name] for name in spec.init_names}
        arguments.update(changes)
        return type(original)(**arguments)


__all__ = ["FrozenRecordError", "field", "field_names", "record", "replace"]
