"""refreshToken rotates; a rotated or revoked token presented again ends the whole family."""

from tests.auth.conftest import ME, REVOKE, login_ok, refresh
from users.models import SessionEndReason, SessionFamily


def test_refresh_returns_new_tokens_and_the_new_access_token_works(gql, member):
    # given a session
    session = login_ok(gql, "member")
    # when the refresh token is traded
    result = refresh(gql, session["refreshToken"])
    # then new tokens come back, of the same family, and the access token signs requests
    rotated = result.data["refreshToken"]
    assert result.errors == []
    assert rotated["refreshToken"] != session["refreshToken"]
    assert rotated["payload"]["sid"] == session["payload"]["sid"]
    assert gql.execute(ME, token=rotated["token"]).data == {"me": {"username": "member"}}


def test_a_rotated_token_cannot_be_used_again(gql, member):
    # given a token that has been rotated once
    session = login_ok(gql, "member")
    assert refresh(gql, session["refreshToken"]).errors == []
    # when it is presented again
    replay = refresh(gql, session["refreshToken"])
    # then it is refused as revoked
    assert replay.code == "TOKEN_REVOKED"
    assert replay.data is None


def test_replaying_a_rotated_token_kills_the_newer_one(gql, member):
    # given an attacker holding a stolen token that the legitimate client already rotated
    stolen = login_ok(gql, "member")["refreshToken"]
    legitimate = refresh(gql, stolen).data["refreshToken"]["refreshToken"]
    # when the attacker replays the stolen token
    assert refresh(gql, stolen).code == "TOKEN_REVOKED"
    # then the newer token of the same family is dead too, and the family is marked as reused
    assert refresh(gql, legitimate).code == "TOKEN_REVOKED"
    family = SessionFamily.objects.get(user__username="member")
    assert family.revoked_at is not None
    assert family.end_reason == SessionEndReason.REUSE
    assert family.tokens.filter(revoked__isnull=True).count() == 0


def test_reuse_ends_only_that_family(gql, member):
    # given two sessions of the same user (two devices)
    phone = login_ok(gql, "member")["refreshToken"]
    laptop = login_ok(gql, "member")["refreshToken"]
    refresh(gql, phone)
    # when the phone's rotated token is replayed
    assert refresh(gql, phone).code == "TOKEN_REVOKED"
    # then the laptop's session still refreshes
    result = refresh(gql, laptop)
    assert result.errors == []
    assert result.data["refreshToken"]["refreshToken"]


def test_unknown_and_missing_tokens_are_invalid(gql, member):
    # when a made-up token or none at all is presented
    made_up = refresh(gql, "0" * 64)
    missing = refresh(gql, None)
    # then both are invalid
    assert (made_up.code, made_up.data) == ("TOKEN_INVALID", None)
    assert (missing.code, missing.data) == ("TOKEN_INVALID", None)


def test_revoke_token_logs_out_the_whole_session(gql, member):
    # given a session refreshed once
    first = login_ok(gql, "member")["refreshToken"]
    current = refresh(gql, first).data["refreshToken"]["refreshToken"]
    # when the client logs out with its current token
    result = gql.execute(REVOKE, {"refreshToken": current})
    # then it is revoked, and neither token refreshes any more
    assert result.data == {"revokeToken": {"revoked": True}}
    assert refresh(gql, current).code == "TOKEN_REVOKED"
    assert refresh(gql, first).code == "TOKEN_REVOKED"
    assert SessionFamily.objects.get().end_reason == SessionEndReason.LOGOUT


def test_revoking_twice_is_harmless(gql, member):
    # given a logged-out session
    token = login_ok(gql, "member")["refreshToken"]
    gql.execute(REVOKE, {"refreshToken": token})
    # when it is revoked again
    result = gql.execute(REVOKE, {"refreshToken": token})
    # then the answer is the same
    assert result.errors == []
    assert result.data == {"revokeToken": {"revoked": True}}


def test_refresh_of_a_deactivated_user_fails(gql, member):
    # given a session of a user who is then deactivated directly in the database
    token = login_ok(gql, "member")["refreshToken"]
    member.is_active = False
    member.save(update_fields=["is_active"])
    # when the refresh token is presented
    result = refresh(gql, token)
    # then it is refused
    assert result.code == "TOKEN_INVALID"
    assert result.data is None
