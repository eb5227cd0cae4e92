"""Places of the province (managed by admins; used by registrations' itineraries)."""


def init_app(app):
    from app.places import models  # noqa: F401  (the table is part of the schema)
