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
