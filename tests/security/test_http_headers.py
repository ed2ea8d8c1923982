"""CORS from the CORS_ALLOWED_ORIGINS allowlist, and the security headers on every answer."""

import json

import pytest
from django.test import override_settings

URL = "/graphql/"
APP = "https://app.clinic.example"
EVIL = "https://evil.example"


def preflight(client, origin: str):
    return client.options(
        URL,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


@override_settings(CORS_ALLOWED_ORIGINS=[APP])
def test_a_preflight_from_an_allowed_origin_is_granted(client, db, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = preflight(client, APP)

    # then
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert set(response["Access-Control-Allow-Methods"].split(", ")) == {"OPTIONS", "POST"}
    assert {"authorization", "content-type"} <= set(response["Access-Control-Allow-Headers"].split(", "))
    assert "Access-Control-Allow-Credentials" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[APP])
def test_a_preflight_from_another_origin_is_not_granted(client, db, django_assert_num_queries):
    # when
    with django_assert_num_queries(0):
        response = preflight(client, EVIL)

    # then: no grant, so the browser never sends the request
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Methods" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[APP])
def test_an_answer_to_another_origin_is_unreadable_by_its_page(client, db):
    # when
    response = client.post(URL, data=json.dumps({"query": "{ __typename }"}), content_type="application/json",
                           HTTP_ORIGIN=EVIL)
    allowed = client.post(URL, data=json.dumps({"query": "{ __typename }"}), content_type="application/json",
                          HTTP_ORIGIN=APP)

    # then
    assert "Access-Control-Allow-Origin" not in response
    assert allowed["Access-Control-Allow-Origin"] == APP
    # the app's page may read the request id and what a retry needs, nothing else
    exposed = {name.strip() for name in allowed["Access-Control-Expose-Headers"].lower().split(",")}
    assert exposed == {"x-request-id", "idempotent-replayed", "retry-after"}


@override_settings(CORS_ALLOWED_ORIGINS=[APP])
def test_cors_covers_only_the_graphql_endpoint(client, db):
    # when: the admin, asked from the allowed origin
    response = client.options("/admin/login/", HTTP_ORIGIN=APP, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

    # then
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize("secure", [False, True], ids=["http", "https"])
def test_security_headers_are_on_every_answer(client, db, secure):
    # when: a GraphQL answer and a refusal
    answer = client.post(URL, data=json.dumps({"query": "{ __typename }"}), content_type="application/json",
                         secure=secure)
    refusal = client.get(URL, secure=secure)

    # then
    for response in (answer, refusal):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "no-referrer"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
        assert response["Content-Type"].startswith("application/json")


def test_hsts_is_sent_over_https_when_debug_is_off(client, db, settings):
    # given: production settings (the suite runs with DEBUG off)
    assert settings.DEBUG is False

    # when
    response = client.post(URL, data=json.dumps({"query": "{ __typename }"}), content_type="application/json",
                           secure=True)

    # then
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
