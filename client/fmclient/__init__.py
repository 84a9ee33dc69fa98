"""fm: the file manager's command-line client.

It speaks only the documented HTTP API (chalicelib/openapi.json) and the
user pool's public JSON API, so it works the same against `make dev` and
against a deployed stage.
"""

__version__ = "0.1.0"
