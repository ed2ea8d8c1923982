"""The one Strawberry schema of Clinic API."""

from functools import partial

import strawberry
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry_django.optimizer import DjangoOptimizerExtension

from schema.audit.queries import AuditQuery
from schema.audit.reads import ReadAuditExtension
from schema.auth import AuthMutation, OneTokenAuthPerDocument
from schema.care.emergency import EmergencyAccessMutation, EmergencyAccessQuery
from schema.care.mutations import CareMutation
from schema.care.queries import CareQuery
from schema.fastpath import build_schema
from schema.limits import DocumentLimits
from schema.lone_surrogates import RejectLoneSurrogates
from schema.null_characters import RejectNullCharacters
from schema.observability import OperationLogExtension
from schema.pagination import MAX_PAGE_SIZE
from schema.records.mutations import RecordsMutation
from schema.records.queries import RecordsQuery
from schema.users.accounts import AccountsMutation
from schema.users.mfa import MfaMutation
from schema.users.queries import UsersQuery
from schema.users.sessions import SessionsMutation, SessionsQuery


@strawberry.type(description="Reads. Every field requires a signed-in caller.")
class Query(UsersQuery, SessionsQuery, RecordsQuery, CareQuery, EmergencyAccessQuery, AuditQuery):
    pass


@strawberry.type(description="Writes.")
class Mutation(
    AuthMutation,
    SessionsMutation,
    AccountsMutation,
    MfaMutation,
    RecordsMutation,
    CareMutation,
    EmergencyAccessMutation,
):
    pass


# strawberry.Schema; with GRAPHQL_FAST_PATH on and the tested framework versions, cheaper per
# request: leaner extension runner, optimizer without middleware, document cache, plain resolvers.
schema = build_schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        OperationLogExtension,
        RejectLoneSurrogates,  # before anything encodes the text: invalid Unicode is BAD_USER_INPUT
        DocumentLimits,  # refuses over-limit documents before any other work
        RejectNullCharacters,  # NUL in any input string: BAD_USER_INPUT, never a database error
        DjangoOptimizerExtension,  # the fast path runs it without its per-field middleware
        ReadAuditExtension,  # appends the request's PHI-read audit events in one statement
        partial(AddValidationRules, [OneTokenAuthPerDocument]),
    ],
    config=StrawberryConfig(relay_max_results=MAX_PAGE_SIZE),
)
