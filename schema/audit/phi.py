"""The domain's PHI classification, in GraphQL names: the one place schema/ maps one onto the other.

records.phi and users.phi say which model fields are PHI or demographics; a GraphQL type over
a model (strawberry-django) knows which model attribute each of its fields reads. Nothing here
decides what is PHI: a field without a model attribute of its own (a computed one) is named by
its Python name, and the domain's deny-by-default answers for it.
"""

import functools

from django.db import models
from graphql import GraphQLNamedType

from records.phi import NOT_PHI, RECORD_CONTENT, phi_models
from schema.internals import django_model_of, strawberry_definition
from users.phi import demographics_models, is_demographic_field

TYPENAME = "__typename"


def model_of(graphql_type: GraphQLNamedType) -> type[models.Model] | None:
    """The Django model a GraphQL type is declared over, if any."""
    origin = getattr(strawberry_definition(graphql_type), "origin", None)
    return django_model_of(origin) if origin is not None else None


# strawberry.relay.Node declares the global `id` as `_id`: it encodes the primary key.
RELAY_NODE_ID = "_id"


def model_attribute(graphql_field, field_name: str, model: type[models.Model] | None = None) -> str:
    """The model attribute a GraphQL field reads (its django_name, else its Python name)."""
    definition = strawberry_definition(graphql_field)
    name = getattr(definition, "django_name", None) or getattr(definition, "python_name", None) or field_name
    if name == RELAY_NODE_ID and model is not None:
        return model._meta.pk.name
    return name


def is_phi_type(graphql_type: GraphQLNamedType) -> bool:
    """A type over a record-PHI model or a patient's demographics."""
    return model_of(graphql_type) in set(phi_models()) | set(demographics_models())


def _field_names(graphql_type, model_attribute_is) -> frozenset[str]:
    """The GraphQL fields of `graphql_type` whose model attribute passes `model_attribute_is(model, name)`."""
    model = model_of(graphql_type)
    return frozenset(
        name
        for name, graphql_field in graphql_type.fields.items()
        if model_attribute_is(model, model_attribute(graphql_field, name, model))
    )


# Types live as long as their schema; a bounded cache keyed on the type object itself.
@functools.lru_cache(maxsize=256)
def not_phi_field_names(graphql_type) -> frozenset[str]:
    """The GraphQL fields of a PHI type the domain names as not PHI (identifiers, the patient link)."""
    return frozenset({TYPENAME}) | _field_names(graphql_type, lambda model, name: name in NOT_PHI.get(model, ()))


@functools.lru_cache(maxsize=256)
def record_content_field_names(graphql_type) -> frozenset[str]:
    """The GraphQL fields of a record type whose rows are read as its content (connections)."""
    return _field_names(graphql_type, lambda model, name: name in RECORD_CONTENT)


@functools.lru_cache(maxsize=256)
def demographic_field_names(graphql_type) -> frozenset[str]:
    """The GraphQL fields of a Patient (or User) type that are demographics."""
    return _field_names(graphql_type, lambda model, name: is_demographic_field(model=model, name=name))
