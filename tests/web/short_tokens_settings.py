"""clinic.settings with access tokens that expire after one second and no leeway, for the browser
test of the silent refresh (tests/web/test_browser.py): a server process started with
DJANGO_SETTINGS_MODULE=tests.web.short_tokens_settings. Nothing else differs."""

from datetime import timedelta

from clinic.settings import *  # noqa: F403 - the real settings, two values changed
from clinic.settings import GRAPHQL_JWT

GRAPHQL_JWT = {**GRAPHQL_JWT, "JWT_EXPIRATION_DELTA": timedelta(seconds=1), "JWT_LEEWAY": 0}
