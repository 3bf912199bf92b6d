"""gunicorn's settings for production: `gunicorn -c python:clinic.gunicorn clinic.wsgi`.

Its access log (off unless `--access-logfile` is given) records the method, the path
without its query string, the status, the size and the browser; never the query string
(%(q)s, or %(r)s which contains it) or the Referer (%(f)s: a page address such as
/treatments/?q=... from this very site), which carry what patients searched for."""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
