"""List pages: the page number from the query string, within sane bounds."""
from flask import current_app, request

from app.extensions import db

MAX_PAGE = 100_000


def paginate(query):
    """One page of `query`; a silly page number (negative, huge, text) gives page 1 or the last page."""
    number = request.args.get("page", 1, type=int) or 1
    number = min(max(number, 1), MAX_PAGE)
    return db.paginate(query, page=number, per_page=current_app.config["PAGE_SIZE"], error_out=False)
