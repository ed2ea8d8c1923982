"""GET /metrics: Prometheus' text format, for a scraper holding METRICS_TOKEN.

Not public: without METRICS_TOKEN in the environment the path does not exist (404); with it,
only `Authorization: Bearer <METRICS_TOKEN>` is answered (else 401). The numbers carry no PHI
(operation names, counts, durations), but they show how the service is used and when it is
struggling, which is nobody else's business.

The outbox gauges are computed from the database at each scrape, not kept in a process: they
are then the same whichever instance (and worker process) is scraped, and right even while no
outbox worker runs, which is exactly when they matter.
"""

import hmac
import logging
import os

from django.db import DatabaseError
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from care.notifications import outbox_backlog

logger = logging.getLogger(__name__)


class OutboxCollector:
    """The notification outbox as gauges, from one aggregate query at scrape time."""

    def collect(self):
        now = timezone.now()
        try:
            backlog = outbox_backlog(now=now)
        except DatabaseError as error:
            # Leave the gauges out (an "absent" alert fires) rather than fail the whole scrape.
            logger.warning("metrics: cannot read the outbox: %s", type(error).__name__)
            return
        notifications = GaugeMetricFamily(
            "clinic_outbox_notifications",
            "Notifications not yet sent, by state: due (waiting for a sender), scheduled (retry later), "
            "failed (out of attempts, waiting for staff).",
            labels=["state"],
        )
        notifications.add_metric(["due"], backlog.due)
        notifications.add_metric(["scheduled"], backlog.scheduled)
        notifications.add_metric(["failed"], backlog.failed)
        yield notifications
        yield GaugeMetricFamily(
            "clinic_outbox_oldest_due_age_seconds",
            "Seconds since the oldest unsent notification was written: it has been due since then, retries "
            "only deferred it (0 when none is waiting).",
            value=backlog.oldest_unsent_age_seconds(now=now),
        )


def _process_samples() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _authorized(request, token: str) -> bool:
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


@require_GET
def metrics(request):
    token = os.environ.get("METRICS_TOKEN", "")
    if not token:
        raise Http404
    if not _authorized(request, token):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    outbox = CollectorRegistry()
    outbox.register(OutboxCollector())
    response = HttpResponse(_process_samples() + generate_latest(outbox), content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response["Cache-Control"] = "no-store"
    return response
