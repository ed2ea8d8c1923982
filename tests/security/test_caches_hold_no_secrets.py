"""The per-process document caches never hold a password or PHI from a request."""

from graphql import print_ast

from schema import fastpath, limits
from tests import factories

SECRET_PASSWORD = "Literal-Passw0rd-Never-Kept"
SECRET_PHI = "Literal allergy never kept"


def cached_text() -> str:
    """Everything the caches hold, as text: keys, and documents printed back to source."""
    parts = [repr(key) for key in limits._within_limits]
    document_caches = []
    if fastpath.active():  # the document caches exist only on the fast path
        from schema.fastpath import execution

        document_caches = [execution._parsed_documents, execution._valid_documents]
    for cache in document_caches:
        for key, value in cache._items.items():
            parts.append(repr(key))
            if value is not True:
                parts.append(print_ast(value))
                if value.loc is not None:
                    parts.append(value.loc.source.body)
    return "\n".join(parts)


def test_literal_passwords_and_phi_in_mutations_are_not_cached(gql, db):
    # given a patient who signs in and updates the record with literals in the documents
    patient = factories.make_patient(username="literal")
    patient.user.set_password(SECRET_PASSWORD)
    patient.user.save()
    login = gql.execute(
        f'mutation {{ tokenAuth(username: "literal", password: "{SECRET_PASSWORD}") {{ token }} }}'
    )
    assert login.errors == []
    token = login.data["tokenAuth"]["token"]
    update = gql.execute(
        f'mutation {{ updateHealthRecord(input: {{allergies: "{SECRET_PHI}"}}) {{ allergies }} }}', token=token
    )
    assert update.data == {"updateHealthRecord": {"allergies": SECRET_PHI}}
    # and reads that do get cached, with the secrets passed as variables
    read = gql.execute("query ($first: Int) { patients(first: $first) { totalCount } }", {"first": 5}, token=token)
    assert read.data == {"patients": {"totalCount": 1}}
    login_again = gql.execute(
        "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }",
        {"u": "literal", "p": SECRET_PASSWORD},
    )
    assert login_again.errors == []
    # then the caches hold something, but neither the password nor the record text
    text = cached_text()
    if fastpath.active():
        assert "patients" in text
    assert SECRET_PASSWORD not in text
    assert SECRET_PHI not in text
