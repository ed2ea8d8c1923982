"""GraphQL over HTTP as clients meet it: /graphql with or without the slash, CORS for SPAs on other
origins, and the media types of the GraphQL-over-HTTP spec. Over Django's test client."""

import json
import subprocess
import sys
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.test import override_settings

from tests.factories import PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
SPA = "https://app.clinic.example"
LOGIN = f'mutation {{ tokenAuth(username: "alice", password: "{PASSWORD}") {{ token }} }}'


def post(client, path: str, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers)


# --- /graphql and /graphql/ ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/graphql", "/graphql/"])
def test_both_paths_answer_a_post_without_a_redirect(client, world, path):
    # when a client posts to the path with or without the trailing slash
    response = post(client, path, {"query": LOGIN})
    # then the API answers it there: no 301 for fetch to retry as a GET
    assert response.status_code == 200
    assert response.json()["data"]["tokenAuth"]["token"]
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/graphql", "/graphql/"])
def test_both_paths_answer_a_cors_preflight(client, settings, path):
    # given an SPA origin granted CORS
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    # when its browser sends the preflight to either path
    response = client.options(
        path,
        HTTP_ORIGIN=SPA,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    # then it is approved with a 200, not redirected (browsers refuse a redirected preflight)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SPA
    assert "content-type" in response["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://api.clinic.example/graphql", True),
        ("https://api.clinic.example/graphql/", True),
        ("https://api.clinic.example/graphqlx", False),
        ("https://api.clinic.example/admin/", False),
    ],
)
def test_the_refresh_cookie_is_sent_to_both_paths_and_no_other(client, world, settings, url, sent):
    # given a browser in cookie mode signed in through /graphql (no slash)
    settings.JWT_REFRESH_COOKIE = True
    response = post(client, "/graphql", {"query": LOGIN})
    set_cookie = response.cookies["clinic-refresh-token"].OutputString()
    # and a cookie jar that matches paths as RFC 6265 5.1.4 says (the standard library's)
    jar = CookieJar()
    origin = urllib.request.Request("https://api.clinic.example/graphql", method="POST")
    jar.extract_cookies(FakeResponse([set_cookie]), origin)
    # when the browser sends a request to `url`
    request = urllib.request.Request(url, method="POST")
    jar.add_cookie_header(request)
    # then the refresh cookie goes along only to the API's paths
    assert ("clinic-refresh-token=" in (request.get_header("Cookie") or "")) is sent


class FakeResponse:
    """What CookieJar.extract_cookies reads of a response: its Set-Cookie headers."""

    def __init__(self, set_cookies: list[str]):
        self.set_cookies = set_cookies

    def info(self):
        return self

    def get_all(self, name: str, default=None):
        return self.set_cookies if name.lower() == "set-cookie" else default


# --- CORS: extra allowed headers from the environment ----------------------------------------


def settings_value(name: str, **env: str) -> object:
    """`name` of clinic.settings as a fresh process reads it with `env`."""
    code = f"import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.{name}))"
    environment = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "clinic.settings", "DEBUG": "1", **env}
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout)


APOLLO_AND_SENTRY = "apollographql-client-name,apollographql-client-version,sentry-trace,baggage"


def test_cors_extra_allowed_headers_come_from_the_environment():
    # when the settings are read with and without CORS_EXTRA_ALLOWED_HEADERS
    fixed = settings_value("CORS_ALLOW_HEADERS")
    extended = settings_value("CORS_ALLOW_HEADERS", CORS_EXTRA_ALLOWED_HEADERS=f" {APOLLO_AND_SENTRY}, Baggage ,")
    # then the extra ones are appended to the fixed list, lower-cased, blanks dropped
    assert fixed == ["authorization", "content-type", "x-request-id", "x-csrf-token", "idempotency-key"]
    assert extended == fixed + APOLLO_AND_SENTRY.split(",") + ["baggage"]


@pytest.mark.parametrize("extra", [False, True])
def test_a_preflight_for_apollo_and_sentry_headers_passes_only_when_configured(client, settings, extra):
    # given an SPA origin granted CORS, with or without the documented extra headers
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    env = {"CORS_EXTRA_ALLOWED_HEADERS": APOLLO_AND_SENTRY} if extra else {}
    headers = settings_value("CORS_ALLOW_HEADERS", **env)
    with override_settings(CORS_ALLOW_HEADERS=headers):
        # when Apollo Client (naming its app) with Sentry tracing asks to post
        response = client.options(
            "/graphql",
            HTTP_ORIGIN=SPA,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,apollographql-client-name,"
            "apollographql-client-version,sentry-trace,baggage",
        )
    # then the browser may send them exactly when they are configured
    allowed = {header.strip() for header in response["Access-Control-Allow-Headers"].split(",")}
    extras = {"apollographql-client-name", "apollographql-client-version", "sentry-trace", "baggage"}
    assert (extras <= allowed) is extra
    assert not (extras & allowed) or extra


# --- media types: application/json (default) and application/graphql-response+json ----------

GRAPHQL_RESPONSE = "application/graphql-response+json"
GRAPHQL_RESPONSE_UTF8 = "application/graphql-response+json; charset=utf-8"
APOLLO_ACCEPT = "application/graphql-response+json,application/json;q=0.9"  # Apollo Client 4's default


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/html", "application/json"),  # neither: the spec's legacy answer, not a 406
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE_UTF8),
        (APOLLO_ACCEPT, GRAPHQL_RESPONSE_UTF8),
        ("application/json, application/graphql-response+json", "application/json"),  # listed first wins a tie
        ("application/graphql-response+json, application/json", GRAPHQL_RESPONSE_UTF8),
        ("application/json;q=0.5, application/graphql-response+json;q=0.8", GRAPHQL_RESPONSE_UTF8),
        ("application/graphql-response+json;q=0, */*", "application/json"),
        ("application/json;q=0, */*", GRAPHQL_RESPONSE_UTF8),
        ("application/*;q=0.9, application/graphql-response+json;q=0.1", "application/json"),
    ],
)
def test_the_media_type_follows_accept_with_its_weights(client, db, accept, expected):
    # when a client posts a query with this Accept header
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = post(client, "/graphql", {"query": "{ __typename }"}, **headers)
    # then the answer is in the preferred type the API speaks, and says that it depends on Accept
    assert response.status_code == 200
    assert response["Content-Type"] == expected
    assert json.loads(response.content) == {"data": {"__typename": "Query"}}
    assert "Accept" in response["Vary"]


@pytest.mark.parametrize(
    ("document", "code"),
    [
        ("{ __typename ", "BAD_USER_INPUT"),  # syntax
        ("{ __typename nope }", "BAD_USER_INPUT"),  # validation
        ("{ " + " ".join(f"a{n}: __typename" for n in range(16)) + " }", "QUERY_TOO_COMPLEX"),  # limits
    ],
)
def test_a_document_that_cannot_run_is_400_without_data_in_graphql_response_json(client, world, document, code):
    # given a signed-in caller (a signed-out one learns less: UNAUTHENTICATED)
    signed_in = {"HTTP_AUTHORIZATION": f"Bearer {access_token(client)}"}
    # when a client of the spec's media type and a legacy client send a document that cannot run
    spec = post(client, "/graphql", {"query": document}, HTTP_ACCEPT=APOLLO_ACCEPT, **signed_in)
    legacy = post(client, "/graphql", {"query": document}, **signed_in)
    # then the spec's client gets a 400 and no data entry (nothing executed)
    assert spec.status_code == 400
    assert spec["Content-Type"] == GRAPHQL_RESPONSE_UTF8
    body = json.loads(spec.content)
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    # and the legacy client gets what it always got: 200 with "data": null and the same errors
    assert legacy.status_code == 200
    assert legacy["Content-Type"] == "application/json"
    assert legacy.json() == {"data": None, **body}


def test_a_field_error_is_200_with_data_in_graphql_response_json(client, world):
    # given a signed-in patient
    access = access_token(client)
    # when she asks for a node she may not read, next to her own name, in the spec's media type
    document = '{ me { username } node(id: "VXNlclR5cGU6MQ==") { id } }'
    response = post(client, "/graphql", {"query": document}, HTTP_ACCEPT=GRAPHQL_RESPONSE,
                    HTTP_AUTHORIZATION=f"Bearer {access}")
    # then the document ran: 200, with data (partial) beside the errors
    body = json.loads(response.content)
    assert response.status_code == 200
    assert response["Content-Type"] == GRAPHQL_RESPONSE_UTF8
    assert body["data"]["me"] == {"username": "alice"}
    assert body.get("errors") is None or all("path" in error for error in body["errors"])


def access_token(client) -> str:
    return post(client, "/graphql", {"query": LOGIN}).json()["data"]["tokenAuth"]["token"]


def transport_refusals(client):
    """One request of each kind refused before GraphQL runs, by name: (response, expected status, code)."""
    big = json.dumps({"query": "{ __typename }" + " " * (1024 * 1024)})
    return {
        "GET": lambda headers: client.get("/graphql", {"query": "{ __typename }"}, **headers),
        "batch": lambda headers: post(client, "/graphql", [{"query": "{ __typename }"}] * 2, **headers),
        "form": lambda headers: client.post("/graphql", {"query": "{ __typename }"}, **headers),
        "too big": lambda headers: post(client, "/graphql", big, **headers),
        "not JSON": lambda headers: post(client, "/graphql", "{", **headers),
    }


REFUSALS = {
    "GET": (405, "BAD_USER_INPUT"),
    "batch": (400, "BAD_USER_INPUT"),
    "form": (415, "BAD_USER_INPUT"),
    "too big": (413, "QUERY_TOO_COMPLEX"),
    "not JSON": (400, "BAD_USER_INPUT"),
}


@pytest.mark.parametrize("kind", sorted(REFUSALS))
@pytest.mark.parametrize(
    ("accept", "content_type"), [(None, "application/json"), (APOLLO_ACCEPT, GRAPHQL_RESPONSE_UTF8)]
)
def test_transport_refusals_are_graphql_errors_in_either_media_type(client, db, kind, accept, content_type):
    # when a request the API does not take arrives, from a legacy client or a client of the spec's type
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = transport_refusals(client)[kind](headers)
    # then it is a 4xx with a GraphQL error body (a code in extensions) in the negotiated type
    status, code = REFUSALS[kind]
    assert response.status_code == status
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]
    # and the refusals that have a header for it say what would do
    if kind == "GET":
        assert response["Allow"] == "POST"
    if kind == "form":
        assert response["Accept-Post"] == "application/json"
