"""Declarative base, naming convention and small database helpers."""
from __future__ import annotations

from datetime import timezone

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.schema import CreateIndex
from sqlalchemy.types import TypeDecorator

from app.clock import utcnow  # noqa: F401  (models take their defaults from the one clock)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones; PostgreSQL returns aware values. This type makes
    both behave the same so comparisons never mix naive and aware datetimes.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given for a UTC column")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def enum_column(enum_cls, length: int = 32) -> sa.Enum:
    """An Enum stored by name as a plain string (no native PostgreSQL type)."""
    return sa.Enum(enum_cls, native_enum=False, length=length, validate_strings=True)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def render_migration_item(type_, obj, autogen_context):
    """Write UTCDateTime into migrations as the plain type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, TypeDecorator) and isinstance(obj.impl, sa.String):
        return f"sa.String(length={obj.impl.length})"  # an encrypted value (app/privacy/crypto.py)
    return False


def next_in_sequence(counter_model, field: str = "last_number", **key) -> int:
    """The next number of a counter row, under a row lock (SELECT ... FOR UPDATE on PostgreSQL;
    SQLite's BEGIN IMMEDIATE already serialises writers). The row is created on first use; if two
    transactions create it at once, the loser's savepoint rolls back and it locks the winner's row.
    The number is taken in the caller's transaction, so a rollback leaves no gap."""
    from app.extensions import db

    counter = db.session.get(counter_model, tuple(key.values()), with_for_update=True)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(counter_model(**key, **{field: 0}))
        except sa.exc.IntegrityError:
            pass
        counter = db.session.get(counter_model, tuple(key.values()), with_for_update=True, populate_existing=True)
    setattr(counter, field, getattr(counter, field) + 1)
    db.session.flush()
    return getattr(counter, field)


# An index marked so in its `info` keeps its NULLS LAST on PostgreSQL only (see `sort_index`).
SQLITE_NATURAL_NULLS = "sqlite_natural_nulls"


def sort_index(name: str, *columns) -> sa.Index:
    """An index in a list's sort order, e.g. `reach DESC NULLS LAST, id DESC`.

    PostgreSQL puts NULLs first in a descending order unless told, so the index says NULLS LAST,
    as the ORDER BY does, for the planner to read the page off the index. SQLite cannot write
    NULLS in an index, and needs not: NULL is its smallest value, so its natural descending order
    already puts them last (and its planner reads `DESC NULLS LAST` off a plain `DESC` index);
    the SQLite CREATE INDEX below leaves the words out. Alembic compares both forms as equal."""
    return sa.Index(name, *columns, info={SQLITE_NATURAL_NULLS: True})


@compiles(CreateIndex, "sqlite")
def _create_index_on_sqlite(element, compiler, **kw):
    text = compiler.visit_create_index(element, **kw)
    if element.element.info.get(SQLITE_NATURAL_NULLS):
        text = text.replace(" NULLS LAST", "").replace(" NULLS FIRST", "")
    return text
