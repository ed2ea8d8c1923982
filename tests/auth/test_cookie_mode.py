"""Browser cookie mode (JWT_REFRESH_COOKIE): the refresh token lives in an HttpOnly, Secure,
SameSite=Strict cookie on /graphql/, cookie-only requests need X-CSRF-Token, and the access token
never goes in a cookie. End to end over Django's test client, which keeps cookies like a browser."""

import pytest
from django.test import override_settings

from tests.auth.conftest import ME, REFRESH, REVOKE, TOKEN_AUTH, login_ok, refresh
from tests.factories import PASSWORD

COOKIE = "clinic-refresh-token"
CSRF_COOKIE = "clinic-csrf-token"


@pytest.fixture
def cookie_mode():
    with override_settings(JWT_REFRESH_COOKIE=True):
        yield


def sign_in(gql) -> dict:
    result = gql.execute(TOKEN_AUTH, {"username": "member", "password": PASSWORD})
    assert result.errors == []
    return result.data["tokenAuth"]


def test_token_auth_sets_the_refresh_cookie_and_keeps_the_token_out_of_the_body(gql, member, cookie_mode):
    # when a browser signs in
    session = sign_in(gql)
    cookies = gql.client.cookies
    # then the refresh token is only in an HttpOnly, Secure, SameSite=Strict cookie scoped to /graphql (and /graphql/)
    assert session["refreshToken"] is None
    refresh_cookie = cookies[COOKIE]
    assert len(refresh_cookie.value) == 64
    assert refresh_cookie["httponly"] is True
    assert refresh_cookie["secure"] is True
    assert refresh_cookie["samesite"] == "Strict"
    assert refresh_cookie["path"] == "/graphql"
    # the CSRF token is readable by the page (not HttpOnly) and matches the body's
    assert cookies[CSRF_COOKIE].value == session["csrfToken"]
    assert not cookies[CSRF_COOKIE]["httponly"]
    # and the access token is in no cookie at all
    assert session["token"] not in [morsel.value for morsel in cookies.values()]


def test_cookie_only_refresh_with_the_csrf_header_rotates_the_cookie(gql, member, cookie_mode):
    # given a signed-in browser
    session = sign_in(gql)
    first_cookie = gql.client.cookies[COOKIE].value
    # when it refreshes with no argument, echoing the CSRF token in the header
    result = gql.execute(REFRESH, {}, headers={"HTTP_X_CSRF_TOKEN": session["csrfToken"]})
    # then new tokens come back, the cookie holds a new refresh token, and the CSRF token changed with it
    assert result.errors == []
    rotated = result.data["refreshToken"]
    assert rotated["token"] and rotated["refreshToken"] is None
    assert gql.client.cookies[COOKIE].value != first_cookie
    assert gql.client.cookies[CSRF_COOKIE].value == rotated["csrfToken"] != session["csrfToken"]
    # and the replaced cookie value is now a rotated token: presenting it ends the session
    assert refresh(gql, first_cookie).code == "TOKEN_REVOKED"
    again = gql.execute(REFRESH, {}, headers={"HTTP_X_CSRF_TOKEN": rotated["csrfToken"]})
    assert again.code == "TOKEN_REVOKED"


@pytest.mark.parametrize("header", [None, "", "0" * 64])
def test_cookie_only_refresh_without_the_right_csrf_header_is_forbidden(gql, member, cookie_mode, header):
    # given a signed-in browser, and a cross-site request that carries its cookies but cannot read them
    session = sign_in(gql)
    headers = {} if header is None else {"HTTP_X_CSRF_TOKEN": header}
    # when it asks for a refresh without the right X-CSRF-Token
    result = gql.execute(REFRESH, {}, headers=headers)
    # then it is refused, and the session was not rotated (the real page can still refresh)
    assert (result.code, result.data) == ("FORBIDDEN", None)
    ok = gql.execute(REFRESH, {}, headers={"HTTP_X_CSRF_TOKEN": session["csrfToken"]})
    assert ok.errors == []


def test_revoke_token_clears_the_cookies_and_ends_the_session(gql, member, cookie_mode):
    # given a signed-in browser
    session = sign_in(gql)
    refresh_token = gql.client.cookies[COOKIE].value
    # when it logs out without an argument (the CSRF header is required as for refresh)
    assert gql.execute(REVOKE, {}).code == "FORBIDDEN"
    result = gql.execute(REVOKE, {}, headers={"HTTP_X_CSRF_TOKEN": session["csrfToken"]})
    # then the session is over and both cookies are deleted
    assert result.data == {"revokeToken": {"revoked": True}}
    assert gql.client.cookies[COOKIE].value == ""
    assert gql.client.cookies[COOKIE]["max-age"] == 0
    assert gql.client.cookies[CSRF_COOKIE]["max-age"] == 0
    assert refresh(gql, refresh_token).code == "TOKEN_REVOKED"


def test_an_explicit_argument_still_works_in_cookie_mode(gql, member, cookie_mode):
    # given the refresh token a non-browser client got from the cookie jar
    sign_in(gql)
    token = gql.client.cookies[COOKIE].value
    gql.client.cookies.clear()
    # when it is passed as the argument (no cookie, no CSRF header: not an ambient credential)
    result = refresh(gql, token)
    # then it refreshes: new tokens that work, and the presented one is spent
    assert result.errors == []
    assert result.data["refreshToken"]["token"]
    assert gql.execute(ME, token=result.data["refreshToken"]["token"]).data == {"me": {"username": "member"}}
    assert refresh(gql, token).code == "TOKEN_REVOKED"


def test_without_cookie_mode_the_cookie_is_ignored(gql, member):
    # given cookie mode off and a refresh token planted in a cookie
    token = login_ok(gql, "member")["refreshToken"]
    assert COOKIE not in gql.client.cookies
    gql.client.cookies[COOKIE] = token
    # when a refresh is asked with no argument
    result = gql.execute(REFRESH, {})
    # then there is no token to use
    assert (result.code, result.data) == ("TOKEN_INVALID", None)


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.clinic.example"], CORS_ALLOW_CREDENTIALS=True)
def test_a_cross_origin_app_may_send_the_csrf_header(client, cookie_mode):
    # when the single-page app's browser asks before a cookie-only refresh
    response = client.options(
        "/graphql/",
        headers={
            "Origin": "https://app.clinic.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-csrf-token",
        },
    )
    # then the header is allowed, with credentials (the cookie)
    assert "x-csrf-token" in response["Access-Control-Allow-Headers"].split(", ")
    assert response["Access-Control-Allow-Credentials"] == "true"
