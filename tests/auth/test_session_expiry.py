"""Idle expiry (15 min without a refresh) and the absolute cap (12 h from login): TOKEN_EXPIRED."""

from datetime import timedelta

import time_machine
from django.test import override_settings
from django.utils import timezone

from tests.auth.conftest import login_ok, refresh
from users.models import SessionEndReason, SessionFamily


def test_a_session_idle_for_15_minutes_ends(gql, member):
    # given a session started now
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = login_ok(gql, "member")["refreshToken"]
        # when 15 minutes pass without a refresh
        clock.shift(timedelta(minutes=15, seconds=1))
        result = refresh(gql, token)
    # then the refresh token has expired and its family is over
    assert result.code == "TOKEN_EXPIRED"
    assert result.data is None
    assert SessionFamily.objects.get().end_reason == SessionEndReason.EXPIRED


def test_refreshing_within_the_idle_limit_keeps_the_session(gql, member):
    # given a session refreshed every 14 minutes for an hour
    with time_machine.travel(timezone.now(), tick=False) as clock:
        session = login_ok(gql, "member")
        token = session["refreshToken"]
        for _ in range(4):
            clock.shift(timedelta(minutes=14))
            result = refresh(gql, token)
            assert result.errors == []
            token = result.data["refreshToken"]["refreshToken"]
        # then the session lives, and it now ends 15 minutes from the last refresh
        expected = int((timezone.now() + timedelta(minutes=15)).timestamp())
        assert result.data["refreshToken"]["refreshExpiresIn"] == expected


def test_a_session_ends_12_hours_after_login_however_active(gql, member):
    # given a session refreshed every 10 minutes
    with time_machine.travel(timezone.now(), tick=False) as clock:
        login_at = timezone.now()
        token = login_ok(gql, "member")["refreshToken"]
        while timezone.now() + timedelta(minutes=10) < login_at + timedelta(hours=12):
            clock.shift(timedelta(minutes=10))
            token = refresh(gql, token).data["refreshToken"]["refreshToken"]
        # when the next refresh falls past 12 hours after login
        clock.shift(timedelta(minutes=10))
        result = refresh(gql, token)
    # then the session has expired although it was never idle
    assert result.code == "TOKEN_EXPIRED"


def test_refresh_expires_in_reports_the_nearest_limit(gql, member):
    # given limits where the absolute cap (10 min) comes before the idle one (15 min)
    with override_settings(GRAPHQL_JWT={**_jwt_settings(), "JWT_REFRESH_EXPIRATION_DELTA": timedelta(minutes=10)}):
        with time_machine.travel(timezone.now(), tick=False):
            # when a user signs in
            session = login_ok(gql, "member")
            # then the session ends at the absolute cap
            assert session["refreshExpiresIn"] == int((timezone.now() + timedelta(minutes=10)).timestamp())


@override_settings(JWT_REFRESH_IDLE_TIMEOUT=timedelta(minutes=2))
def test_the_idle_limit_is_a_setting(gql, member):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        token = login_ok(gql, "member")["refreshToken"]
        clock.shift(timedelta(minutes=2, seconds=1))
        assert refresh(gql, token).code == "TOKEN_EXPIRED"


def _jwt_settings() -> dict:
    from django.conf import settings

    return dict(settings.GRAPHQL_JWT)
