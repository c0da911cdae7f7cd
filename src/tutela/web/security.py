"""What every console and portal page carries: a Content-Security-Policy that allows no
inline script and nothing from another host, no framing, no caching, no referrer; and the
CSRF check of every form."""

from __future__ import annotations

import hmac

from fastapi import Response

from tutela.errors import Denied

__all__ = ["CSP", "attachment", "check_csrf", "harden"]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def harden(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def attachment(content: str | bytes, media_type: str, filename: str) -> Response:
    """A file to save rather than a page to show (a text type gets its charset from
    Starlette), with the headers every page carries."""
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return harden(response)


def check_csrf(sent: str | None, expected: str | None) -> None:
    """The form's token must be the session's (or, before signing in, the cookie's)."""
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Denied("the form expired or did not come from this site: reload it and try again")
