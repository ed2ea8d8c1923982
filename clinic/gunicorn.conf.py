"""Gunicorn settings for `make serve`, read from the environment.

`make serve` (ops/serve.py) runs gunicorn behind nginx, on a unix socket in its run directory
(it sets BIND); gunicorn alone on a port is for SERVE_BEHIND_PROXY=1 deployments, whose own
proxy buffers requests: its workers read request bodies themselves, so clients trickling bodies
straight at it would hold them.

WEB_CONCURRENCY   worker processes (default: 2 x CPU cores + 1, at most 8)
GUNICORN_THREADS  threads per worker; above 1 the workers are `gthread` (default 1: `sync`)
BIND              address to listen on (default 127.0.0.1:8000; PORT alone sets 0.0.0.0:$PORT)
GUNICORN_TIMEOUT  seconds before a silent worker is killed and replaced (default 30)
FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-* (gunicorn's default: 127.0.0.1; a unix
                     socket's peer, nginx under `make serve`, is always trusted)
GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket (default: none, disabled)

Requests are logged as JSON by ops.middleware.RequestLogMiddleware, so gunicorn's own access log
stays off; its error log (worker starts, timeouts) goes to stderr as JSON lines too.
"""

import multiprocessing
import os
import tempfile

wsgi_app = "clinic.wsgi:application"

# /metrics merges the samples of every worker process (ops/metrics.py) through files in this
# directory: a fresh one per server start, set here in the master so that every worker inherits it.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="clinic-metrics-")

bind = os.environ.get("BIND") or (f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow forever; jitter avoids all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
if os.environ.get("FORWARDED_ALLOW_IPS"):
    forwarded_allow_ips = os.environ["FORWARDED_ALLOW_IPS"]

# gunicorn's runtime control socket (gunicornc): off unless a path is given. Its default path is
# per user, so several instances on one host would fight over it.
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True

accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "ops.logs.JsonFormatter"}},
    "handlers": {"error_console": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": loglevel.upper(), "handlers": ["error_console"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["error_console"], "level": loglevel.upper(), "propagate": False},
        # A log config switches gunicorn's access log on; its lines hold the query string: keep it off.
        "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
    },
}
