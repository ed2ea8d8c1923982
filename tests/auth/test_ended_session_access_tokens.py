"""An access token belongs to a session (`sid`): ending the session ends the token at once."""

from tests.auth.conftest import ME, REVOKE, login_ok, refresh
from tests.conftest import global_id
from users.token_library import get_token

REVOKE_SESSION = "mutation ($id: ID!) { revokeSession(input: {id: $id}) { session { id } } }"


def test_logout_ends_the_sessions_access_token_at_once(gql, member):
    # given a signed-in client whose access token works
    session = login_ok(gql, "member")
    assert gql.execute(ME, token=session["token"]).data == {"me": {"username": "member"}}
    # when it logs out
    assert gql.execute(REVOKE, {"refreshToken": session["refreshToken"]}).data == {"revokeToken": {"revoked": True}}
    # then its access token is refused, without waiting for its 5 minutes
    after = gql.execute(ME, token=session["token"])
    assert after.code == "TOKEN_REVOKED"
    assert after.data is None


def test_reuse_detection_cuts_off_the_access_tokens_of_the_family(gql, member):
    # given a thief who refreshed with a stolen token and holds the new access token
    stolen = login_ok(gql, "member")
    thief = refresh(gql, stolen["refreshToken"]).data["refreshToken"]
    assert gql.execute(ME, token=thief["token"]).data == {"me": {"username": "member"}}
    # when the legitimate client presents the (now rotated) token again
    assert refresh(gql, stolen["refreshToken"]).code == "TOKEN_REVOKED"
    # then the thief's access token stops working at once
    assert gql.execute(ME, token=thief["token"]).code == "TOKEN_REVOKED"


def test_ending_one_session_leaves_the_others_working(gql, member):
    # given two sessions of one user
    laptop = login_ok(gql, "member")
    phone = login_ok(gql, "member")
    # when the laptop ends the phone's session
    ended = gql.execute(REVOKE_SESSION, {"id": global_id("Session", phone["payload"]["sid"])}, token=laptop["token"])
    assert ended.errors == []
    # then the phone's access token is refused and the laptop's still works
    assert gql.execute(ME, token=phone["token"]).code == "TOKEN_REVOKED"
    assert gql.execute(ME, token=laptop["token"]).data == {"me": {"username": "member"}}


def test_a_token_with_a_malformed_session_claim_is_invalid(gql, member):
    # given a token minted with the real key but a session id that is not one
    token = get_token(member, sid="not-a-session")
    # when it is used
    result = gql.execute(ME, token=token)
    # then it is refused as invalid
    assert result.code == "TOKEN_INVALID"
    assert result.data is None
