"""Cookie mode needs the page and the API on one site: a page on another site gets no refresh cookie
sent (SameSite=Strict), and its cookie-only refreshToken/revokeToken fail. The failure says why
instead of a bare TOKEN_INVALID; a same-site page, or one behind a dev proxy, works."""

import pytest
from django.test import override_settings

from tests.auth.conftest import REFRESH, REVOKE, TOKEN_AUTH
from tests.factories import PASSWORD

API_HOST = "127.0.0.1:8000"  # the README's example: `make run`
COOKIE = "clinic-refresh-token"


@pytest.fixture
def cookie_mode():
    with override_settings(JWT_REFRESH_COOKIE=True, ALLOWED_HOSTS=["127.0.0.1", "api.clinic.example", "testserver"]):
        yield


@pytest.mark.parametrize("document", [REFRESH, REVOKE])
@pytest.mark.parametrize(
    ("origin", "api"),
    [
        ("http://localhost:5173", f"http://{API_HOST}"),  # Vite's dev server calling `make run` directly
        ("https://app.example.org", "https://api.clinic.example"),  # another registrable domain
        ("http://app.clinic.example", "https://api.clinic.example"),  # same domain, other scheme
    ],
)
def test_a_cookie_only_request_from_another_site_says_why_it_failed(gql, member, cookie_mode, document, origin, api):
    # given a page on another site than the API: its browser keeps the SameSite=Strict cookie back
    scheme, _, host = api.partition("://")
    # when it asks for a cookie-only refresh or logout
    result = gql.execute(
        document, {}, headers={"HTTP_ORIGIN": origin, "HTTP_HOST": host, "wsgi.url_scheme": scheme}
    )
    # then it fails as before, TOKEN_INVALID, but the message says why and what to do
    assert (result.code, result.data) == ("TOKEN_INVALID", None)
    message = result.errors[0]["message"]
    assert origin in message
    assert "same site" in message and "proxy" in message and "README" in message


def test_a_same_site_page_without_a_cookie_gets_the_plain_answer(gql, member, cookie_mode):
    # given a page of the API's own site that has no session (signed out, or never signed in)
    # when it asks for a cookie-only refresh
    result = gql.execute(REFRESH, {}, headers={"HTTP_ORIGIN": "https://app.clinic.example",
                                                "HTTP_HOST": "api.clinic.example", "wsgi.url_scheme": "https"})
    # then it is the plain TOKEN_INVALID: nothing is wrong with the set-up
    assert result.code == "TOKEN_INVALID"
    assert result.errors[0]["message"] == "A refresh token is required."


def test_a_page_behind_a_dev_proxy_refreshes_with_its_cookie(gql, member, cookie_mode):
    # given a page on the dev server that proxies /graphql to the API (Vite's server.proxy with
    # changeOrigin): to the API the request is same-origin, and the browser sends the cookie
    signed_in = gql.execute(TOKEN_AUTH, {"username": "member", "password": PASSWORD})
    csrf = signed_in.data["tokenAuth"]["csrfToken"]
    # when it refreshes with the cookie only, as the proxy forwards it
    result = gql.execute(REFRESH, {}, headers={"HTTP_X_CSRF_TOKEN": csrf, "HTTP_ORIGIN": "http://testserver"})
    # then it works
    assert result.errors == []
    assert result.data["refreshToken"]["token"]


def test_the_message_carries_no_secret(gql, member, cookie_mode):
    # given a signed-in browser whose cookies another site's page cannot send
    gql.execute(TOKEN_AUTH, {"username": "member", "password": PASSWORD})
    cookies = {name: morsel.value for name, morsel in gql.client.cookies.items()}
    gql.client.cookies.clear()
    # when that page asks for a refresh
    result = gql.execute(REFRESH, {}, headers={"HTTP_ORIGIN": "http://localhost:5173", "HTTP_HOST": API_HOST})
    # then the explanation names no token, cookie value or key
    message = result.errors[0]["message"]
    assert result.code == "TOKEN_INVALID"
    assert not any(value in message for value in cookies.values())
