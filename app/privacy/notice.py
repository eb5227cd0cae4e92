"""Filled in by the issue 13 work."""
def init_app(app):
    pass
