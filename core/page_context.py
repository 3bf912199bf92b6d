"""What a page is about (the treatment it shows), signed by the server for the tracker.

A treatment page puts a signed token in the page; track.js sends it back with its
engagement events, and the tracking API adds what it says (procedures, categories) to
the event. The browser can pass the token on but cannot make one up, so engagement
"with Botox" is only ever recorded from the Botox page, and no app below the tools
needs to know the catalog to trust it."""

from django.core import signing
from django.core.exceptions import ValidationError

SALT = "core.page_context"
# Long enough for a tab left open over a weekend.
MAX_AGE_SECONDS = 7 * 24 * 3600
KEYS = ("procedures", "categories")


def page_context_sign(*, procedures: list[str], categories: list[str]) -> str:
    return signing.dumps({"procedures": procedures, "categories": categories}, salt=SALT, compress=True)


def page_context_read(token: str) -> dict[str, list[str]]:
    """The data a token carries; ValidationError if this site did not make it."""
    try:
        value = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature as error:
        raise ValidationError("This page context was not made by this site, or has expired.") from error
    return {key: [str(item) for item in value.get(key, [])] for key in KEYS}
