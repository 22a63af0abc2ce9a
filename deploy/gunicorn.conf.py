"""gunicorn settings for Relais behind a reverse proxy (see README, "Deployment")."""

import multiprocessing

bind = "127.0.0.1:8000"
workers = max(2, multiprocessing.cpu_count() * 2)
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 30
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
errorlog = "-"
