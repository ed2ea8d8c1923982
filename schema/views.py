import json
from typing import Any

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from schema import schema
from schema.errors import ErrorCode, format_error, merge_repeated
from schema.limits import MAX_BODY_BYTES
from users.tokens import authenticate_request


@method_decorator(csrf_exempt, name="dispatch")  # Bearer tokens are not ambient credentials.
class ClinicGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("schema", schema)
        kwargs.setdefault("graphql_ide", "graphiql" if settings.DEBUG else None)
        kwargs.setdefault("allow_queries_via_get", False)
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        adapter = self.request_adapter_class(request)
        if self.graphql_ide and request.method == "GET" and self.should_render_graphql_ide(adapter):
            return super().dispatch(request, *args, **kwargs)  # GraphiQL, DEBUG only
        refused = self.refuse_transport(request)
        if refused is not None:
            return refused
        authenticate_request(request)
        try:
            return self.run(request=request)
        except HTTPException as error:  # Strawberry's own refusals (no query, bad variables...), as JSON
            return refusal(error.status_code, error.reason, ErrorCode.BAD_USER_INPUT)

    def refuse_transport(self, request) -> HttpResponse | None:
        """POST application/json of one operation, at most 1 MiB, or a 4xx before any work.

        No GET (queries or mutations in URLs end up in logs and caches, and GET skips CORS
        preflight), no forms (a cross-site form may post them without preflight), no batches
        (one request, one operation: limits and throttles count per request).
        """
        if request.method != "POST":
            response = refusal(405, "Only POST is supported.", ErrorCode.BAD_USER_INPUT)
            response["Allow"] = "POST"
            return response
        media_type, _, parameters = request.META.get("CONTENT_TYPE", "").partition(";")
        charset = parameters.strip().lower().removeprefix("charset=").strip('"')
        if media_type.strip().lower() != "application/json" or charset not in {"", "utf-8"}:
            return refusal(415, "The body must be application/json.", ErrorCode.BAD_USER_INPUT)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
            too_big = declared > MAX_BODY_BYTES or len(request.body) > MAX_BODY_BYTES
        except (RequestDataTooBig, ValueError):
            too_big = True
        if too_big:
            return refusal(413, f"The body may be at most {MAX_BODY_BYTES} bytes.", ErrorCode.QUERY_TOO_COMPLEX)
        try:
            self.payload = json.loads(request.body)
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, [[[[... 100,000 deep
            return refusal(400, "The body is not valid JSON.", ErrorCode.BAD_USER_INPUT)
        if isinstance(self.payload, list):
            return refusal(400, "Batched operations are not supported.", ErrorCode.BAD_USER_INPUT)
        if not isinstance(self.payload, dict) or not isinstance(self.payload.get("operationName", ""), str | None):
            return refusal(400, "The body must be one GraphQL request object.", ErrorCode.BAD_USER_INPUT)
        return None

    def decode_json(self, data: str | bytes) -> Any:
        # The body was parsed once already by refuse_transport.
        payload = getattr(self, "payload", None)
        return payload if payload is not None else super().decode_json(data)

    def process_result(self, request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            request_id = getattr(request, "request_id", "")
            response["errors"] = merge_repeated([format_error(error, request_id=request_id) for error in result.errors])
            # For ops.middleware.RequestLogMiddleware's log line: codes only, never messages.
            request.graphql_error_codes = [error["extensions"]["code"] for error in response["errors"]]
        if result.extensions:
            response["extensions"] = result.extensions
        return response


def refusal(status: int, message: str, code: ErrorCode) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "extensions": {"code": code.value}}]}, status=status)
