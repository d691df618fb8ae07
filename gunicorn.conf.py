"""gunicorn settings for production (`make serve`); every value can be overridden by the environment."""
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
max_requests = 5000          # recycle workers now and then (memory)
max_requests_jitter = 500
accesslog = None             # the app logs each request as JSON with its request id
errorlog = "-"
raw_env = [f"LOG_FORMAT={os.environ.get('LOG_FORMAT', 'json')}"]
if os.environ.get("LOG_FORMAT", "json") == "json":
    # gunicorn's own lines (booting, worker timeouts) as JSON too, by the app's formatter
    logconfig_dict = {
        "formatters": {"json": {"()": "greenfin.logs.JsonFormatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["json"]},  # levels stay gunicorn's (--log-level) and the app's (LOG_LEVEL)
        "loggers": {"gunicorn.error": {"handlers": ["json"], "propagate": False}},
    }
# No preload: each worker builds its own app and connection pool after the fork,
# so no database connection is ever shared between processes.
preload_app = False


def child_exit(server, worker):
    """Multiprocess metrics (PROMETHEUS_MULTIPROC_DIR): drop a dead worker's live gauges; its counters stay."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Start the chart engine (vl-convert's JavaScript runtime, 2-3 s) before the worker takes requests,
    so that the first visit to a page with charts does not pay for it."""
    try:
        from greenfin.charts import warm_up

        warm_up()
    except Exception as exc:  # a worker without charts still serves every other page
        worker.log.warning("chart engine not started: %s", exc.__class__.__name__)
