import json

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import classonlymethod
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from schema import schema
from schema.errors import ErrorCode, format_error, merge_repeated
from schema.limits import MAX_BODY_BYTES
from users.tokens import authenticate_request

POST_OPERATION_TYPES = frozenset(OperationType.from_http("POST"))


class ClinicGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("schema", schema)
        kwargs.setdefault("graphql_ide", "graphiql" if settings.DEBUG else None)
        kwargs.setdefault("allow_queries_via_get", False)
        super().__init__(**kwargs)

    @classonlymethod
    def as_view(cls, **initkwargs):
        # Bearer tokens are not ambient credentials. Exempt the view function once, not through
        # method_decorator, which wraps `dispatch` anew on every request.
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        if (
            self.graphql_ide
            and request.method == "GET"
            and self.should_render_graphql_ide(self.request_adapter_class(request))
        ):
            return super().dispatch(request, *args, **kwargs)  # GraphiQL, DEBUG only
        refused = self.refuse_transport(request)
        if refused is not None:
            return refused
        authenticate_request(request)
        try:
            return self.execute(request)
        except HTTPException as error:  # Strawberry's own refusals (no query, bad variables...), as JSON
            return refusal(error.status_code, error.reason, ErrorCode.BAD_USER_INPUT)

    def execute(self, request) -> HttpResponse:
        """Strawberry's `run` for the one POSTed JSON operation refuse_transport let through.

        Its `run` would check the method and content type again, wrap the request three times,
        build the headers mapping (for streaming transports, none of which this view serves) and
        decode the body again (issue 7, README "Performance"). Same checks, same messages, same
        calls otherwise.
        """
        query, variables, extensions = (self.payload.get(key) for key in ("query", "variables", "extensions"))
        if not isinstance(query, str | None):
            raise HTTPException(400, "The GraphQL operation's `query` must be a string or null, if provided.")
        if not isinstance(variables, dict | None):
            raise HTTPException(400, "The GraphQL operation's `variables` must be an object or null, if provided.")
        if not isinstance(extensions, dict | None):
            raise HTTPException(400, "The GraphQL operation's `extensions` must be an object or null, if provided.")
        sub_response = self.get_sub_response(request)  # mutations set cookies on it (schema/auth.py)
        try:
            result = self.schema.execute_sync(
                query,
                root_value=self.get_root_value(request),
                variable_values=variables,
                context_value=self.get_context(request, response=sub_response),
                operation_name=self.payload.get("operationName"),
                allowed_operation_types=POST_OPERATION_TYPES,
                operation_extensions=extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason("POST")) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        return self.create_response(response_data=self.process_result(request, result), sub_response=sub_response)

    def get_sub_response(self, request) -> HttpResponse:
        # The response itself, which create_response fills: Strawberry's is a JsonResponse whose
        # headers, status and cookies are then copied into a second one.
        return HttpResponse(content_type="application/json")

    def create_response(self, response_data: GraphQLHTTPResponse, sub_response: HttpResponse) -> HttpResponse:
        sub_response.content = self.encode_json(response_data)
        return sub_response

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
            # UTF-8 only (RFC 8259), as Strawberry decoded it: json.loads(bytes) would take UTF-16 too.
            self.payload = json.loads(request.body.decode("utf-8-sig"))
        except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, [[[[... 100,000 deep
            return refusal(400, "The body is not valid JSON.", ErrorCode.BAD_USER_INPUT)
        if isinstance(self.payload, list):
            return refusal(400, "Batched operations are not supported.", ErrorCode.BAD_USER_INPUT)
        if not isinstance(self.payload, dict) or not isinstance(self.payload.get("operationName", ""), str | None):
            return refusal(400, "The body must be one GraphQL request object.", ErrorCode.BAD_USER_INPUT)
        return None

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
