"""The peer ``bench/queue_load.py`` measures the queue API against in the same run: a bare
Django + django-ninja project (``startproject``'s settings and middleware, persistent database
connections) doing the same four operations through the ORM, as the issue describes it: issue
(with ``Idempotency-Key``, a daily number series, the position in the queue), call-next (the
outlet's row locked, then the longest-waiting ticket called), start and finish, each writing an
event. It has none of the product's checks (device tokens, teller sessions, counter states,
strategies, live events, audit), so it does less per request than the product does.

Served by the same WSGI server with the same workers, on the same PostgreSQL, driven by the
same wrk script (the paths and the answers' ``ticket_id`` are the product's).
"""
