from audit.context import RequestOrigin, request_id_from_header, reset_origin, set_origin


class RequestOriginMiddleware:
    """Gives every request an id and records where it came from for the audit trail.

    A well-formed incoming X-Request-ID (from a proxy or the client) is kept, so one id follows
    the request through every hop; the response always carries the id used.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from_header(request.META.get("HTTP_X_REQUEST_ID"))
        token = set_origin(
            RequestOrigin(
                request_id=request.request_id,
                ip=request.META.get("REMOTE_ADDR") or None,
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:256],
            )
        )
        try:
            response = self.get_response(request)
        finally:
            reset_origin(token)
        response["X-Request-ID"] = request.request_id
        return response
