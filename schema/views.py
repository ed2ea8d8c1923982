import json
import logging
import re

from cross_web import HTTPException
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.decorators import classonlymethod
from django.views.decorators.csrf import csrf_exempt
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    parse,
)
from graphql import OperationType as GraphQLOperationType
from strawberry.django.views import GraphQLView
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from idempotency.errors import IdempotencyKeyReused
from idempotency.services import Answer, Execution, idempotent_execute, request_fingerprint
from schema import persisted as persisted_documents
from schema import schema
from schema.errors import SERVICE_UNAVAILABLE_RETRY_AFTER, ErrorCode, format_error, merge_repeated
from schema.internals import graphql_schema
from schema.limits import MAX_BODY_BYTES, MAX_TOKENS
from users.tokens import authenticate_request

logger = logging.getLogger("schema.errors")  # where format_error logs unexpected errors

POST_OPERATION_TYPES = frozenset(OperationType.from_http("POST"))

IDEMPOTENCY_KEY_HEADER = "HTTP_IDEMPOTENCY_KEY"
IDEMPOTENCY_KEY_MAX_LENGTH = 255  # idempotency.models.IdempotencyKey.key
# An answer with one of these is not kept for a retry: the failure may not happen again, and the
# request's writes are rolled back with it (a retry must not add to half a mutation).
TRANSIENT_CODES = frozenset({ErrorCode.INTERNAL.value, ErrorCode.SERVICE_UNAVAILABLE.value})
# Kept neither, but the writes stand (the throttle's own counters): a retry after the wait runs.
RELEASED_CODES = frozenset({ErrorCode.RATE_LIMITED.value})
# Payload fields that hold a credential. A mutation returning one (tokenAuth, refreshToken,
# changePassword, and any added later with such a payload) ignores Idempotency-Key: its answer
# would otherwise sit in the database in clear for 24 hours, while sessions store only digests.
CREDENTIAL_FIELDS = frozenset(
    {"token", "refreshToken", "csrfToken", "mfaToken", "secret", "otpauthUri", "recoveryCodes"}
)

# GraphQL over HTTP (GraphQL Foundation spec): a client that asks for this media type by Accept gets
# it, with the spec's status codes (400 when the document did not run); everyone else, and clients
# that accept neither type (the spec's legacy watershed), get application/json exactly as before.
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
GRAPHQL_RESPONSE_CONTENT_TYPE = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"


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
        """Every answer of /graphql/ is JSON and never cached, whatever fails (DESIGN.md section 5).

        In the media type the client's Accept prefers: refusals and failures too, so a client of
        application/graphql-response+json reads every answer the same way.
        """
        request.graphql_media_type = negotiated_media_type(request.META.get("HTTP_ACCEPT"))
        try:
            response = self.answer(request, *args, **kwargs)
        except Exception as error:  # noqa: BLE001 - reported as INTERNAL / SERVICE_UNAVAILABLE, logged
            response = failure_response(request, error)
        if request.graphql_media_type == GRAPHQL_RESPONSE_JSON and response.get("Content-Type", "").startswith(
            APPLICATION_JSON
        ):
            response["Content-Type"] = GRAPHQL_RESPONSE_CONTENT_TYPE
        patch_vary_headers(response, ["Accept"])
        response["Cache-Control"] = "no-store"  # tokens and PHI: no browser or proxy keeps a copy
        return response

    def answer(self, request, *args, **kwargs) -> HttpResponse:
        if (
            self.graphql_ide
            and request.method == "GET"
            and self.should_render_graphql_ide(self.request_adapter_class(request))
        ):
            return super().dispatch(request, *args, **kwargs)  # GraphiQL, DEBUG only
        refused = self.refuse_transport(request)
        if refused is not None:
            return refused
        key = request.META.get(IDEMPOTENCY_KEY_HEADER)
        if key is not None:
            key = idempotency_key_from_header(key)
            if key is None:
                return refusal(
                    400,
                    "The Idempotency-Key header must be 1-255 printable ASCII characters.",
                    ErrorCode.BAD_USER_INPUT,
                    fields={"idempotencyKey": ["1-255 printable ASCII characters."]},
                )
        authenticate_request(request)
        if (refused := persisted_documents.resolve(self.payload, request)) is not None:  # APQ, trusted documents
            return refusal(*refused)
        try:
            if key is not None and request.user.is_authenticated and is_idempotent_mutation(self.payload):
                return self.execute_once(request, key)
            return self.execute(request)
        except HTTPException as error:  # Strawberry's own refusals (no query, bad variables...), as JSON
            return refusal(error.status_code, error.reason, ErrorCode.BAD_USER_INPUT)
        except IdempotencyKeyReused as error:
            # The draft's 422: the request is well formed but contradicts the key's first use. (Its
            # 409 is for a duplicate still in flight, which we never answer: it waits for the first.)
            return refusal(422, str(error), ErrorCode.CONFLICT)

    def execute_once(self, request, key: str) -> HttpResponse:
        """The mutation runs at most once per user and key; a retry gets the stored answer."""

        def run() -> Execution[HttpResponse]:
            response = self.execute(request, all_or_nothing=True)
            codes = set(getattr(request, "graphql_error_codes", ()))
            if codes & TRANSIENT_CODES:
                return Execution(response, answer=None, rollback=True)
            if codes & RELEASED_CODES:
                return Execution(response, answer=None)
            return Execution(response, Answer(response.status_code, response["Content-Type"], response.content))

        outcome = idempotent_execute(
            user=request.user, key=key, fingerprint=request_fingerprint(self.payload), execute=run
        )
        if isinstance(outcome, Answer):
            response = HttpResponse(outcome.body, status=outcome.status, content_type=outcome.content_type)
            response["Idempotent-Replayed"] = "true"  # as Stripe's API says it: not a second execution
            return response
        return outcome

    def execute(self, request, *, all_or_nothing: bool = False) -> HttpResponse:
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
        response_data = self.process_result(request, result)
        codes = set(getattr(request, "graphql_error_codes", ()))
        if getattr(request, "graphql_media_type", APPLICATION_JSON) == GRAPHQL_RESPONSE_JSON and did_not_run(result):
            # The spec: no `data` entry when the request failed before execution, and a 4xx (5xx when
            # the server failed). application/json keeps `"data": null` with 200, as it always had.
            del response_data["data"]
            sub_response.status_code = 500 if ErrorCode.INTERNAL.value in codes else 400
        if all_or_nothing and codes & TRANSIENT_CODES:
            response_data["data"] = None  # its writes are rolled back: no field may claim one happened
        if ErrorCode.SERVICE_UNAVAILABLE.value in codes:
            sub_response.status_code = 503
            sub_response["Retry-After"] = str(SERVICE_UNAVAILABLE_RETRY_AFTER)
        return self.create_response(response_data=response_data, sub_response=sub_response)

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
            response = refusal(415, "The body must be application/json.", ErrorCode.BAD_USER_INPUT)
            response["Accept-Post"] = "application/json"  # RFC 9110 15.5.16: say which type would do
            return response
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


def did_not_run(result: ExecutionResult) -> bool:
    """Was the document refused before execution (syntax, validation, limits)? Those errors, unlike
    a resolver's, have no path, and no data came back."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors)


def negotiated_media_type(accept: str | None) -> str:
    """The response media type for an Accept header (RFC 9110 12.5.1), q-values and wildcards included.

    The higher q wins; on a tie the type the client listed first (`application/graphql-response+json,
    application/json` prefers the former, as the spec's example). Neither acceptable, no header, or
    only wildcards: application/json, which every client before the spec understands.
    """
    if not accept:
        return APPLICATION_JSON
    ranges = []
    for position, item in enumerate(accept.split(",")):
        media_range, *parameters = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    quality = 0.0  # a malformed weight accepts nothing rather than everything
        ranges.append((media_range, quality, position))

    def preference(media_type: str) -> tuple[float, int, bool]:
        """(q, listed earlier, is application/json) by the most specific range matching `media_type`."""
        for matching in (media_type, media_type.split("/")[0] + "/*", "*/*"):
            for media_range, quality, position in ranges:
                if media_range == matching:
                    # Only a type the client named outranks by its place in the list, not a wildcard.
                    place = -position if matching == media_type else -len(ranges)
                    return quality, place, media_type == APPLICATION_JSON
        return 0.0, -len(ranges), media_type == APPLICATION_JSON

    media_type = max((GRAPHQL_RESPONSE_JSON, APPLICATION_JSON), key=preference)
    return media_type if preference(media_type)[0] > 0 else APPLICATION_JSON


def refusal(status: int, message: str, code: ErrorCode, **extensions) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value, **extensions}}]}, status=status
    )


def failure_response(request, error: BaseException | None) -> JsonResponse:
    """An exception no one handled, as format_error reports one: masked, logged with the request id.

    SERVICE_UNAVAILABLE (HTTP 503, Retry-After) when the database cannot be reached, otherwise
    INTERNAL (500); never Django's HTML page, never a traceback.
    """
    original = error if error is not None else RuntimeError("a non-JSON error response on /graphql/")
    request_id = getattr(request, "request_id", "")
    formatted = format_error(GraphQLError("Internal server error.", original_error=original), request_id=request_id)
    code = formatted["extensions"]["code"]
    if code not in TRANSIENT_CODES:  # e.g. a PermissionDenied from a middleware: still unexpected here
        exc_info = (type(original), original, original.__traceback__)
        logger.error("Unexpected error in request %s", request_id or "-", exc_info=exc_info)
        code = ErrorCode.INTERNAL.value
        formatted = {"message": "Internal server error.", "extensions": {"code": code, "requestId": request_id}}
    request.graphql_error_codes = [code]  # for the request log line
    response = JsonResponse({"errors": [formatted]}, status=503 if code == ErrorCode.SERVICE_UNAVAILABLE else 500)
    if code == ErrorCode.SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(SERVICE_UNAVAILABLE_RETRY_AFTER)
    return response


# RFC 8941 sf-string, the draft's form of the header: a quoted string, \" and \\ its only escapes.
SF_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])*)"')


def idempotency_key_from_header(value: str) -> str | None:
    """The key of an Idempotency-Key header, quoted as the draft writes it or bare; None if malformed.

    Printable ASCII only (WSGI hands other bytes over as Latin-1 characters, which fail here).
    """
    quoted = SF_STRING.fullmatch(value)
    if quoted is not None:
        value = re.sub(r'\\(["\\])', r"\1", quoted[1])
    elif '"' in value:
        return None
    if not 1 <= len(value) <= IDEMPOTENCY_KEY_MAX_LENGTH or not all(" " <= char <= "~" for char in value):
        return None
    return value


def _credential_mutations() -> frozenset[str]:
    mutation_type = graphql_schema(schema).mutation_type
    return frozenset(
        name
        for name, field in mutation_type.fields.items()
        if CREDENTIAL_FIELDS & set(getattr(get_named_type(field.type), "fields", {}))
    )


CREDENTIAL_MUTATIONS = _credential_mutations()


def is_idempotent_mutation(payload: dict) -> bool:
    """Does Idempotency-Key apply: a mutation (not a query) that returns no credential?

    Parsed here, before the schema runs, with the same token cap as DocumentLimits; a document
    that does not parse runs without the key and gets its syntax error.
    """
    query = payload.get("query")
    if not isinstance(query, str):
        return False
    try:
        document = parse(query, max_tokens=MAX_TOKENS, no_location=True)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, payload.get("operationName"))
    if operation is None or operation.operation != GraphQLOperationType.MUTATION:
        return False
    return not (root_field_names(document, operation.selection_set) & CREDENTIAL_MUTATIONS)


def root_field_names(document: DocumentNode, selection_set: SelectionSetNode, seen: frozenset = frozenset()) -> set:
    """Names (not aliases) of the fields selected at the root, through fragments too."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    names: set[str] = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= root_field_names(document, selection.selection_set, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                names |= root_field_names(document, fragment.selection_set, seen | {selection.name.value})
    return names
