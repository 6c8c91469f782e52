"""gunicorn's settings for the portal (README, "Running in production"):

    gunicorn -c portal/gunicorn.conf.py portal.wsgi:application --workers 4 --bind 0.0.0.0:8000

An upload is one long request per file (a tus PATCH that streams the whole file).
gunicorn's default sync worker is killed when a request outlasts `timeout`, which broke
every upload longer than 30 seconds and held the worker from everyone else meanwhile.
A gthread worker keeps telling the arbiter it is alive while its threads stream, so an
upload may take hours; tests/test_production_server.py checks it.
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A worker takes no more connections than it has threads. By default it accepts up
# to 1,000 and queues them: a page view could then wait behind uploads in one worker
# while another worker had threads free. (gunicorn 23's gthread loop spun without
# accepting, for good, once this many connections waited for their first bytes at
# once: pyproject asks for 27.)
worker_connections = threads
# So no thread is kept for an idle keep-alive connection (the proxy in front keeps
# the browsers' connections open).
keepalive = 0
