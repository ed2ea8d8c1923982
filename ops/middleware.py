"""Process-level middleware: health probes and the one structured log line per request."""

import ipaddress
import json
import logging
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connections
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils.functional import SimpleLazyObject, empty

from ops.health import readiness
from ops.metrics import observe_request

logger = logging.getLogger("clinic.request")

HEALTH_PATHS = ("/healthz", "/readyz")


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before anything else runs.

    First in MIDDLEWARE on purpose: a load balancer probes by IP (not an ALLOWED_HOSTS name) and
    over plain HTTP (no HTTPS redirect), needs no credentials, and should not fill the request log.
    The answers carry no PHI: only check names, booleans and counts.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info.rstrip("/")
        if path not in HEALTH_PATHS:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        if path == "/healthz":
            response = JsonResponse({"status": "ok"})
        else:
            ready, checks = readiness()
            response = JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks})
            response.status_code = 200 if ready else 503
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class ClientAddressMiddleware:
    """Behind TRUSTED_PROXY_HOPS proxies, REMOTE_ADDR becomes the client's address.

    Each proxy appends the address it was reached from to X-Forwarded-For, so with N trusted
    proxies the client is the N-th address from the right; anything further left was sent by
    the client itself and proves nothing. The audit trail and the login lockout (keyed by
    username and IP) both read REMOTE_ADDR: without this, behind a load balancer every client
    would share its address. Off (0) by default: then X-Forwarded-For is ignored entirely.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        hops = settings.TRUSTED_PROXY_HOPS
        if hops > 0:
            forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            forwarded = [part for part in forwarded if part]
            if len(forwarded) >= hops:
                try:
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(forwarded[-hops]))
                except ValueError:
                    pass  # a malformed entry: keep the proxy's own address
        return self.get_response(request)


class _QueryCounter:
    """A connection.execute_wrapper that counts statements (no DEBUG query log needed)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestLogMiddleware:
    """One JSON line per request: who, which operation, how long, how many queries, outcome.

    Never the body, the variables, headers or the query string: they carry tokens, passwords
    and PHI. The GraphQL view leaves the operation name/type and error codes on the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _QueryCounter()
        started = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(counter))
            response = self.get_response(request)
        duration_ms = round((time.perf_counter() - started) * 1000, 2)
        error_codes = getattr(request, "graphql_error_codes", None)
        if error_codes is None and response.status_code >= 400:
            error_codes = _refusal_codes(response)
        observe_request(request, seconds=duration_ms / 1000, error_codes=error_codes or [])
        logger.log(
            logging.ERROR if response.status_code >= 500 else logging.INFO,
            "%s %s %s in %s ms, %s queries",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            counter.count,
            extra={
                "request_id": getattr(request, "request_id", ""),
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "db_queries": counter.count,
                "user_id": _user_id(request),
                "graphql_operation_name": getattr(request, "graphql_operation_name", None),
                "graphql_operation_type": getattr(request, "graphql_operation_type", None),
                "graphql_errors": bool(error_codes),
                "graphql_error_codes": error_codes or [],
            },
        )
        return response


def _refusal_codes(response) -> list[str] | None:
    """Codes of an error answered before GraphQL ran (wrong method, media type, size): tiny bodies."""
    if not response.get("Content-Type", "").startswith("application/json") or response.streaming:
        return None
    try:
        errors = json.loads(response.content).get("errors") or []
        return [error["extensions"]["code"] for error in errors]
    except (ValueError, AttributeError, KeyError, TypeError):
        return None


def _user_id(request) -> str | None:
    # Read only what is already loaded: the GraphQL view sets a real user from the Bearer token;
    # elsewhere request.user may be a lazy object whose evaluation would cost a query.
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return str(user.pk)
