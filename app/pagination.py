"""List pages: the page number from the query string, within sane bounds."""
import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from app.extensions import db

MAX_PAGE = 100_000


def paginate(query):
    """One page of `query`; a silly page number (negative, huge, text) gives page 1 or the last page."""
    number = request.args.get("page", 1, type=int) or 1
    number = min(max(number, 1), MAX_PAGE)
    return db.paginate(query, page=number, per_page=current_app.config["PAGE_SIZE"], error_out=False)


class IdsFirstPage(Pagination):
    """One page of a long list read in three fixed statements: the page's ids (sorted and cut by
    the database from the indexes where it can, without carrying whole rows through the sort),
    then those rows with what the page shows (`options`), then the count of the ids query without
    its order. Sorting 80,000 wide registration rows to keep 25 was most of the staff queue's
    time on SQLite; sorting their ids is not."""

    def __init__(self, ids_query, model, options=()):
        self._ids, self._model, self._options = ids_query, model, options
        number = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
        super().__init__(page=number, per_page=current_app.config["PAGE_SIZE"], max_per_page=None,
                         error_out=False)

    def _query_items(self) -> list:
        ids = list(db.session.scalars(self._ids.limit(self.per_page).offset(self._query_offset)))
        if not ids:
            return []
        by_id = {row.id: row for row in db.session.scalars(
            sa.select(self._model).where(self._model.id.in_(ids)).options(*self._options))}
        return [by_id[row_id] for row_id in ids if row_id in by_id]

    def _query_count(self) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(self._ids.order_by(None).subquery())) or 0
