"""Access logs never keep what patients searched for: no query strings, no Referer."""

import datetime
import io
import logging
from types import SimpleNamespace

from django.core.servers.basehttp import WSGIRequestHandler
from gunicorn.config import Config
from gunicorn.glogging import Logger

from clinic import gunicorn as gunicorn_settings

SEARCH = "GET /treatments/?q=botox+before+my+wedding&utm_source=x HTTP/1.1"


def test_the_development_servers_access_log_drops_query_strings():
    handler = logging.getLogger("django.server").handlers[0]
    output = io.StringIO()
    previous = handler.setStream(output)
    try:
        request = WSGIRequestHandler.__new__(WSGIRequestHandler)  # as runserver logs a finished request
        request.requestline, request.request, request.client_address = SEARCH, None, ("192.0.2.1", 50000)
        request.log_request(200, 1234)
    finally:
        handler.setStream(previous)
    line = output.getvalue()
    assert '"GET /treatments/?(query removed) HTTP/1.1" 200 1234' in line
    assert "botox" not in line and "wedding" not in line


def test_gunicorns_access_log_format_keeps_neither_query_nor_referer():
    config = Config()
    config.set("access_log_format", gunicorn_settings.access_log_format)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/treatments/?q=botox+before+my+wedding", "PATH_INFO": "/treatments/",
        "QUERY_STRING": "q=botox+before+my+wedding", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "192.0.2.1",
        "HTTP_REFERER": "https://clinic.example/treatments/?q=lip+filler", "HTTP_USER_AGENT": "Firefox",
    }
    response = SimpleNamespace(status="200 OK", sent=1234, headers=[])
    atoms = Logger(config).atoms(response, SimpleNamespace(headers=[]), environ, datetime.timedelta(seconds=0.1))
    line = config.access_log_format % atoms
    assert '"GET /treatments/ HTTP/1.1" 200 1234 "Firefox"' in line
    assert "botox" not in line and "lip+filler" not in line
