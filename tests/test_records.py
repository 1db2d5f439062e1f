"""Records behave as the frozen dataclasses they replace (records.py), tested in-process."""

from __future__ import annotations

import dataclasses
import typing as t
from typing import ClassVar

import pytest

from django_prodserver.records import FrozenRecordError, field, field_names, record, replace


@record
class Point:
    """A record with a required field, a default, a factory and a class variable."""

    x: int
    y: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    unit: ClassVar[str] = "px"


@record
class Labelled(Point):
    """A record that adds a field to a record it inherits."""

    label: str = ""


@record
class Squared:
    """A record that computes a field from the others, as ``__post_init__`` may."""

    side: int
    area: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "area", self.side * self.side)


def test_construction_by_position_keyword_default_and_factory() -> None:
    point = Point(1, tags={"a": "b"})
    assert (point.x, point.y, point.tags) == (1, 0, {"a": "b"})
    assert Point(x=1).tags is not Point(x=1).tags  # one dict per instance
    assert field_names(Point) == ("x", "y", "tags")
    assert Point.unit == "px"


def test_a_subclass_inherits_the_fields_in_order() -> None:
    assert field_names(Labelled) == ("x", "y", "tags", "label")
    assert Labelled(1, 2, {}, "here").label == "here"


def test_post_init_and_fields_left_out_of_init() -> None:
    assert Squared(3).area == 9
    with pytest.raises(TypeError, match=r"Squared\(\) got an unexpected argument 'area'"):
        Squared(3, area=1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((), {}, r"Point\(\) is missing the argument 'x'"),
        ((1, 2, {}, 4), {}, r"Point\(\) takes 3 arguments, got 4"),
        ((1,), {"x": 2}, r"Point\(\) got a repeated argument 'x'"),
        ((1,), {"z": 2}, r"Point\(\) got an unexpected argument 'z'"),
    ],
)
def test_wrong_arguments_are_type_errors(
    args: tuple[object, ...], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)  # type: ignore[arg-type]  # wrong on purpose


def test_fields_cannot_be_set_or_deleted() -> None:
    point = Point(1)
    with pytest.raises(FrozenRecordError, match="cannot assign to field 'x' of Point"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(FrozenRecordError, match="cannot delete field 'y' of Point"):
        del point.y
    with pytest.raises(dataclasses.FrozenInstanceError):  # what code written for dataclasses catches
        point.z = 1  # type: ignore[attr-defined]


def test_an_undecorated_subclass_may_set_its_own_attributes_but_not_the_fields() -> None:
    class Cached(Point):
        """A subclass that caches something on its instances, as a frozen dataclass' may."""

    point = Cached(1)
    point.cache = "kept"  # type: ignore[attr-defined]
    assert point.cache == "kept"  # type: ignore[attr-defined]
    with pytest.raises(FrozenRecordError):
        point.x = 2  # type: ignore[misc]


def test_equality_hash_and_repr_over_the_fields() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != Labelled(1)  # another class is never equal, as with dataclasses
    assert len({Squared(2), Squared(2), Squared(3)}) == 2
    assert repr(Labelled(1, label="a")) == "Labelled(x=1, y=0, tags={}, label='a')"


def test_replace_copies_with_changes_and_runs_post_init() -> None:
    point = Labelled(1, 2, label="a")
    assert replace(point, label="b") == Labelled(1, 2, label="b")
    assert point.label == "a"
    assert replace(Squared(2), side=4).area == 16


def test_methods_a_class_writes_itself_win() -> None:
    @record
    class Named:
        """A record with its own repr."""

        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

    assert repr(Named("web")) == "<web>"
    assert hash(Named("web")) == hash(Named("web"))


def test_the_dataclasses_functions_accept_records() -> None:
    """Code written for the frozen dataclasses these were keeps working."""
    point = Labelled(1, 2, label="a")
    assert dataclasses.is_dataclass(point)
    assert [f.name for f in dataclasses.fields(Labelled)] == ["x", "y", "tags", "label"]
    assert dataclasses.replace(point, y=5) == Labelled(1, 5, label="a")
    assert dataclasses.asdict(point) == {"x": 1, "y": 2, "tags": {}, "label": "a"}
    assert dataclasses.replace(Squared(2), side=3).area == 9
    assert [f.name for f in dataclasses.fields(Point)] == ["x", "y", "tags"]  # its own, not its subclass'


def test_a_field_declared_again_keeps_its_place_and_takes_the_new_default() -> None:
    @record
    class Origin(Point):
        """A point whose x defaults to 0."""

        x: int = 0

    assert field_names(Origin) == ("x", "y", "tags")
    assert Origin() == Origin(0, 0, {})
    assert Origin(5, 6).y == 6


def test_a_dataclass_may_subclass_a_record() -> None:
    @dataclasses.dataclass(frozen=True)
    class Tagged(Point):
        tag: str = ""

    assert Tagged(1, tag="a") == Tagged(1, 0, {}, "a")
    assert [f.name for f in dataclasses.fields(Tagged)] == ["x", "y", "tags", "tag"]


def test_pattern_matching_and_copy_replace_as_with_dataclasses() -> None:
    match Labelled(1, 2, label="a"):
        case Labelled(x, y, _, label):
            assert (x, y, label) == (1, 2, "a")
        case _:
            pytest.fail("no match")
    # copy.replace() on Python 3.13; typeshed gives dataclass_transform classes no __replace__ before.
    assert Point(1).__replace__(y=3) == Point(1, 3)  # type: ignore[attr-defined]


def test_class_variables_fields_left_out_of_init_and_inherited_defaults() -> None:
    @record
    class Counter(Point):
        """Spellings of ClassVar, a field for __post_init__ to set, and y declared again."""

        limit: t.ClassVar[int] = 3
        y: int
        total: int = field(init=False)

        def __post_init__(self) -> None:
            object.__setattr__(self, "total", self.x + self.y)

    assert field_names(Counter) == ("x", "y", "tags", "total")
    # y kept the default Point gave it, as dataclasses do (mypy reads the redeclared y as required).
    assert Counter(2).total == 2  # type: ignore[call-arg]
    assert Counter(2, 5).total == 7


def test_a_mutable_default_is_refused_as_dataclasses_do() -> None:
    with pytest.raises(
        ValueError, match=r"mutable default list for field 'items' of Bag: use field\(default_factory=...\)"
    ):

        @record
        class Bag:
            """A record that would share one list among all its instances."""

            items: list[int] = []  # noqa: RUF012
