"""With a grace window (JWT_REFRESH_REUSE_GRACE_SECONDS), 16 clients refreshing one token at once
all get the same new pair from real server processes, and the session lives on: runserver and
gunicorn on an SQLite file, gunicorn on PostgreSQL when DATABASE_URL names one. Without the
window the same race ends the session (test_write_races)."""

import json

from tests.concurrency.conftest import CLIENTS, Site, race

# The servers of this module run with a 5-minute window: the race is over long before it closes.
SITE_ENV = {"JWT_REFRESH_REUSE_GRACE_SECONDS": "300"}
REFRESH = "mutation Refresh($r: String) { refreshToken(refreshToken: $r) { token refreshToken } }"
ME = "query Me { me { patient { id } } }"


def test_racing_refreshes_of_one_token_within_the_window_all_get_the_same_pair(site: Site):
    # given one session of carol's
    carol = site.login("carol")
    # when 16 clients present its refresh token at once
    answers = race([lambda: site.server.graphql(REFRESH, {"r": carol.refresh_token})] * CLIENTS)
    # then every one gets the same new refresh token, and each access token works
    assert [answer.codes for answer in answers] == [[]] * CLIENTS, [answer.body for answer in answers]
    pairs = [answer.data["refreshToken"] for answer in answers]
    assert len({pair["refreshToken"] for pair in pairs}) == 1
    assert all(site.server.graphql(ME, token=pair["token"]).codes == [] for pair in pairs)
    # and the session lives on: one live token in the family, which rotates as usual
    live = site.rows(
        "SELECT COUNT(*) FROM users_refreshtoken t JOIN users_user u ON u.id = t.user_id "
        "WHERE u.username = %s AND t.revoked IS NULL",
        "carol",
    )
    assert live == [(1,)]
    assert site.server.graphql(REFRESH, {"r": pairs[0]["refreshToken"]}).codes == []
    print(f"\nRACE {site.kind}/{site.database} refreshToken within grace: "
          f"{json.dumps({'requests': CLIENTS, 'distinct_pairs': 1})}")
