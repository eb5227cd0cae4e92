"""List pages: the page number from the query string, within sane bounds."""
import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from app.extensions import db

MAX_PAGE = 100_000


def page_number() -> int:
    """The page asked for; a silly number (negative, huge, text) gives page 1 or the last page."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def paginate(query):
    """One page of `query`."""
    return db.paginate(query, page=page_number(), per_page=current_app.config["PAGE_SIZE"], error_out=False)


class ListPage(Pagination):
    """One page of a list, from a SELECT of its rows and a SELECT of their count: two statements,
    whatever the page size and the data (the rows' many-to-one neighbours are joined in the first).
    The count is its own query (not flask-sqlalchemy's count over the whole SELECT), so it reads
    only the table and the conditions, none of the rows' joins. A first page shorter than a page
    is its own count."""

    def __init__(self, rows, count, *, scalars: bool = False):
        self._rows, self._count, self._scalars = rows, count, scalars
        super().__init__(page=page_number(), per_page=current_app.config["PAGE_SIZE"], max_per_page=None,
                         error_out=False)

    def _query_items(self) -> list:
        result = db.session.execute(self._rows.limit(self.per_page).offset(self._query_offset))
        return result.scalars().all() if self._scalars else result.all()

    def _query_count(self) -> int:
        if self.page == 1 and len(self.items) < self.per_page:
            return len(self.items)
        return db.session.scalar(self._count)


class IdsFirstPage(Pagination):
    """One page of a long list read in three fixed statements: the page's ids (sorted and cut by
    the database from the indexes where it can, without carrying whole rows through the sort),
    then those rows with what the page shows (`options`), then the count of the ids query without
    its order (or, `count_with_ids`, the count read with the ids: two statements). Sorting 80,000 wide registration rows to keep 25 was most of the staff queue's
    time on SQLite; sorting their ids is not."""

    def __init__(self, ids_query, model, options=(), *, count_query=None, count_with_ids: bool = False):
        """`count_query`: the rows to count when `ids_query` is not a plain SELECT of them.

        `count_with_ids`: the total comes with the page's ids (`count(*) OVER ()`), not from a
        statement of its own, for a query the database must evaluate whole to sort it anyway (a
        search, ranked): its matching was done twice, once for the page and once for the count
        (the staff queue's search, 17-18 ms each on PostgreSQL at 100,000 registrations). Not for a
        query an index serves in order, where the page stops at its 25th row and the count reads
        the index alone. A page with no row to carry the total (past the last, or a search that finds
        nothing) is counted apart."""
        self._ids, self._model, self._options = ids_query, model, options
        self._count = count_query if count_query is not None else ids_query.order_by(None)
        self._count_with_ids, self._total_with_ids = count_with_ids, None
        super().__init__(page=page_number(), per_page=current_app.config["PAGE_SIZE"], max_per_page=None,
                         error_out=False)

    def _query_items(self) -> list:
        page = self._ids.limit(self.per_page).offset(self._query_offset)
        if self._count_with_ids:
            rows = db.session.execute(page.add_columns(sa.func.count().over().label("total"))).all()
            ids = [row[0] for row in rows]
            self._total_with_ids = rows[0].total if rows else None
        else:
            ids = list(db.session.scalars(page))
        if not ids:
            return []
        by_id = {row.id: row for row in db.session.scalars(
            sa.select(self._model).where(self._model.id.in_(ids)).options(*self._options))}
        return [by_id[row_id] for row_id in ids if row_id in by_id]

    def _query_count(self) -> int:
        if self._total_with_ids is not None:
            return self._total_with_ids
        return db.session.scalar(sa.select(sa.func.count()).select_from(self._count.subquery())) or 0
