"""/graphql/ answers JSON even when a middleware fails after the view ran, and is never cached.

The view turns its own failures into JSON (schema.views.ClinicGraphQLView.dispatch). A failure in a
middleware between this one and the view (the request log, sessions, CSRF, an audit append) is
turned by Django into its HTML "Server Error (500)" before any outer middleware sees it; this one
swaps that page for the API's JSON error, with the exception Django reported.
"""

import sys

from django.core.signals import got_request_exception
from django.dispatch import receiver
from django.http import JsonResponse

from schema.errors import ErrorCode
from schema.views import failure_response

GRAPHQL_PATH = "/graphql"

# Django's own 4xx pages (a disallowed host, a suspicious request) by status: still the API's shape.
REFUSAL_CODES = {
    401: ErrorCode.UNAUTHENTICATED,
    403: ErrorCode.FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    413: ErrorCode.QUERY_TOO_COMPLEX,
    429: ErrorCode.RATE_LIMITED,
}


def is_graphql(request) -> bool:
    return request.path_info.rstrip("/") == GRAPHQL_PATH


@receiver(got_request_exception, dispatch_uid="schema.middleware.keep_unhandled_exception")
def keep_unhandled_exception(sender, request=None, **kwargs) -> None:
    # Sent while Django handles the exception: the one moment it is still known (sys.exc_info).
    if request is not None:
        request.unhandled_exception = sys.exc_info()[1]


class GraphQLFailureMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_graphql(request):
            return self.get_response(request)
        response = self.get_response(request)
        if response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
            response = self.as_json(request, response)
        response["Cache-Control"] = "no-store"
        return response

    def as_json(self, request, response):
        if response.status_code >= 500:
            return failure_response(request, getattr(request, "unhandled_exception", None))
        code = REFUSAL_CODES.get(response.status_code, ErrorCode.BAD_USER_INPUT)
        refused = JsonResponse(
            {"errors": [{"message": response.reason_phrase, "extensions": {"code": code.value}}]},
            status=response.status_code,
        )
        for header in ("Allow", "Retry-After"):
            if header in response:
                refused[header] = response[header]
        return refused
