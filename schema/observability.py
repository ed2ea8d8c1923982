"""Leaves the GraphQL operation's name and type on the Django request for the request log."""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension


class OperationLogExtension(SchemaExtension):
    """ops.middleware.RequestLogMiddleware reads what this stashes; the document is parsed once."""

    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        request = getattr(context.context, "request", None)
        if request is None or context.graphql_document is None:  # unparsable: nothing to name
            return
        try:
            request.graphql_operation_type = context.operation_type.value
        except RuntimeError:  # an operationName that names no operation in the document
            return
        request.graphql_operation_name = context.operation_name
