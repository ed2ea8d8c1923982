from django.conf import settings
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from schema import schema
from schema.errors import format_error
from users.tokens import authenticate_request


@method_decorator(csrf_exempt, name="dispatch")  # Bearer tokens are not ambient credentials.
class ClinicGraphQLView(GraphQLView):
    def __init__(self, **kwargs):
        kwargs.setdefault("schema", schema)
        kwargs.setdefault("graphql_ide", "graphiql" if settings.DEBUG else None)
        kwargs.setdefault("allow_queries_via_get", False)
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        authenticate_request(request)
        return super().dispatch(request, *args, **kwargs)

    def process_result(self, request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            request_id = getattr(request, "request_id", "")
            response["errors"] = [format_error(error, request_id=request_id) for error in result.errors]
            # For ops.middleware.RequestLogMiddleware's log line: codes only, never messages.
            request.graphql_error_codes = [error["extensions"]["code"] for error in response["errors"]]
        if result.extensions:
            response["extensions"] = result.extensions
        return response
