"""Search that ignores case and diacritics, the same on SQLite and PostgreSQL.

A Vietnamese user types "tay ninh" for "Tây Ninh", "nguyen van" for "Nguyễn Văn", "d" for "đ",
or types the accents while the text was stored decomposed (NFD, as some Mac and phone keyboards
send it). Choice: each searchable name keeps a *folded* copy beside it (`*_folded` columns, set
by the model whenever the name is set, see `folded_copy`), and the search folds the term the same
way in Python and compares with LIKE. Not PostgreSQL's `unaccent`: SQLite has none, and one
Python function on both sides is what makes both databases give the same results (the tests
compare them). On PostgreSQL a trigram index (`pg_trgm`, `gin_trgm_ops`) on each folded column
serves `LIKE '%term%'`; on SQLite the folded columns are short and the tables they live on
(outlets, crew members, places) are small, so a scan is cheap, and registrations are reached
through indexed joins.

Folding: Unicode NFKD, combining marks dropped, "đ"/"Đ" to "d" (a letter of its own, not a d
with a mark, so NFKD keeps it), case folded, runs of white space made one space.
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
import sqlalchemy.orm

from app.extensions import db

_SPACES = re.compile(r"\s+")
_LETTERS_OF_THEIR_OWN = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "ø": "o",
                                       "Ø": "o", "ß": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe"})
# The longest folded copy kept; names are far shorter (a registration's outlet name: 200).
FOLDED_MAX = 400


def fold(text: str | None) -> str:
    """`text` without case and diacritics: fold("Nguyễn Văn Đức") == "nguyen van duc"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS_OF_THEIR_OWN))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", bare.translate(_LETTERS_OF_THEIR_OWN).casefold()).strip()[:FOLDED_MAX]


def like_pattern(term: str) -> str:
    """A LIKE pattern for "contains the folded term" (with \\ escaping % and _)."""
    escaped = fold(term).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(folded_column, term: str):
    """SQL: the folded column contains the folded term."""
    return folded_column.like(like_pattern(term), escape="\\")


def trigram_index(name: str, column: str) -> sa.Index:
    """For a model's `__table_args__`: a trigram index serving LIKE '%term%' on the folded column
    on PostgreSQL (the `pg_trgm` extension, created before the tables: see `install`); SQLite makes
    a plain index of it, unused by such a LIKE but harmless on these small tables."""
    return sa.Index(name, column, postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def _create_trigram_extension(metadata: sa.MetaData) -> None:
    """`pg_trgm` before the tables, for `create_all` (the tests); the migration creates it too.
    A trusted extension since PostgreSQL 13: the database's owner may create it, no superuser."""
    sa.event.listen(metadata, "before_create",
                    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))


# --- the folded copies ------------------------------------------------------------------------

# model class -> [(folded column's attribute, (source attributes...))]
_FOLDED: dict[type, list[tuple[str, tuple[str, ...]]]] = {}
FOLDED_SEPARATOR = " | "  # between the sources of one folded copy (a place's Vietnamese and English names)


def keep_folded(model: type, target: str, *sources: str) -> None:
    """Keep `model.<target>` the folded copy of its `sources` (joined), set at each flush where a
    source changed. Bulk Core inserts and updates bypass it: `backfill()` sets those."""
    _FOLDED.setdefault(model, []).append((target, sources))


def folded_value(values) -> str | None:
    return FOLDED_SEPARATOR.join(part for part in (fold(value) for value in values) if part) or None


def _refresh_folded(session, _flush_context, _instances) -> None:
    for instance in list(session.new) + list(session.dirty):
        specs = _FOLDED.get(type(instance))
        if not specs:
            continue
        state = sa.inspect(instance)
        for target, sources in specs:
            if instance in session.new or any(state.attrs[source].history.has_changes() for source in sources):
                setattr(instance, target, folded_value(getattr(instance, source) for source in sources))


def backfill(session=None, chunk: int = 5_000) -> int:
    """Set every folded copy from its sources (after a migration adds the column, or a bulk load);
    returns the rows changed."""
    session = session or db.session
    changed = 0
    for model, specs in _FOLDED.items():
        table = model.__table__
        for target, sources in specs:
            target_column, source_columns = table.c[target], [table.c[source] for source in sources]
            last_id = 0
            while True:
                rows = session.execute(sa.select(table.c.id, target_column, *source_columns)
                                       .where(table.c.id > last_id).order_by(table.c.id).limit(chunk)).all()
                if not rows:
                    break
                last_id = rows[-1][0]
                updates = [{"row_id": row[0], "value": value} for row in rows
                           if (value := folded_value(row[2:])) != row[1]]
                if updates:
                    session.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id"))
                                    .values({target: sa.bindparam("value")})
                                    .execution_options(synchronize_session=False), updates)
                    changed += len(updates)
    return changed


sa.event.listen(sa.orm.Session, "before_flush", _refresh_folded)
_create_trigram_extension(db.metadata)
