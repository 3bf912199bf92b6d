"""Logging filters: what the clinic's logs must never keep."""

import logging
import re

# "GET /treatments/?q=botox+before+my+wedding HTTP/1.1": the path stays, the query goes.
_QUERY = re.compile(r"\?[^\s\"]*")
REMOVED = "?(query removed)"


def without_query_strings(text: str) -> str:
    return _QUERY.sub(REMOVED, text)


class OmitQueryStrings(logging.Filter):
    """Removes query strings from the request lines of the development server's access
    log (`django.server`). Query strings carry what patients searched for
    (/treatments/?q=...): health information, which an access log would otherwise keep
    for as long as the log exists, beyond VISITOR_RETENTION_DAYS and out of reach of
    GDPR erasure."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(without_query_strings(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = without_query_strings(record.msg)
        return True
