"""gunicorn's settings for production: `gunicorn -c python:clinic.gunicorn clinic.wsgi`
(any of them can be changed on the command line or in GUNICORN_CMD_ARGS).

Workers: one process a core (WEB_CONCURRENCY overrides it), each serving 4 requests
at a time on threads; gunicorn's own default is a single sync worker, which left a
core unused. A tracked event waits on PostgreSQL twice (the row lock, the commit's
flush to disk): with threads, a request waiting on either does not hold up the
worker's other requests. On the benchmark's machine tracking is CPU-bound (the cores
were 95 % busy with 2 sync workers too), so threads measured about the same
throughput there; `make bench` reports both. Each thread keeps its own database
connection (DATABASE_CONN_MAX_AGE): workers x threads connections in all.

Its access log (off unless `--access-logfile` is given) records the method, the path
without its query string, the status, the size and the browser; never the query string
(%(q)s, or %(r)s which contains it) or the Referer (%(f)s: a page address such as
/treatments/?q=... from this very site), which carry what patients searched for."""

import multiprocessing
import os

workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = 4
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
