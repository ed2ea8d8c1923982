"""GET / serves the web app (web/views.py): its page and two files, revalidated, under a strict CSP."""

import pytest

from web.views import CONTENT_SECURITY_POLICY, DIST


@pytest.mark.parametrize(
    ("path", "name", "content_type"),
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        # the pages the account mails link to (users/account_tokens.py LINK_PATHS)
        ("/accept-invitation?token=abc", "index.html", "text/html; charset=utf-8"),
        ("/reset-password?token=abc", "index.html", "text/html; charset=utf-8"),
        ("/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "app.css", "text/css; charset=utf-8"),
    ],
)
def test_the_built_files_are_served_with_their_type_and_policy(client, path, name, content_type):
    # when the browser asks for one of the app's files
    response = client.get(path)
    # then it gets the committed build, typed, revalidated each time, under the page's CSP
    assert response.status_code == 200
    assert response.content == (DIST / name).read_bytes()
    assert response["Content-Type"] == content_type
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "connect-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"


def test_an_unchanged_file_is_answered_304(client):
    # given the page once loaded
    first = client.get("/")
    # when the browser revalidates it with its ETag
    again = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    # then nothing is sent again
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]


def test_the_page_loads_its_bundle_and_nothing_else(client):
    page = client.get("/").content.decode()
    assert '<script type="module" src="/app.js"></script>' in page
    assert 'href="/app.css"' in page and "http" not in page.replace('lang="en"', "")


def test_only_get_and_head(client):
    assert client.head("/").status_code == 200
    response = client.post("/", data={})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_other_paths_are_not_the_app(client):
    # no catch-all: unknown paths stay 404, the API keeps /graphql/
    assert client.get("/index.html").status_code == 404
    assert client.get("/dist/app.js").status_code == 404
    assert client.get("/accept-invitation/").status_code == 404


def test_every_mailed_link_path_is_a_page_of_the_app(client):
    from users.account_tokens import LINK_PATHS

    for path in LINK_PATHS.values():
        assert client.get(f"/{path}?token=abc").content == (DIST / "index.html").read_bytes()
