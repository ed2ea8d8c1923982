"""The pages the account mails link to, in headless Chromium (issue 17's links, served by the web app).

A patient registered by staff over HTTP opens her invitation link, is told next to the field why a
weak password will not do, sets one and lands signed in; then, signed out, asks for a reset on the
sign-in screen, opens that link, sets a new password and signs in with it. The tokens are read from
the outbox rows' mail bodies, as the mail would carry them.
"""

import re

from tests.ops.servers import production_env
from tests.ops.sites import PASSWORD
from tests.web.conftest import needs_chromium
from tests.web.test_browser import App, serving

pytestmark = needs_chromium

REGISTER = """mutation($input: RegisterPatientInput!) { registerPatient(input: $input) { user { id } } }"""
EMAIL = "nadia.invited@example.org"


def mailed_link(site, page: str) -> str:
    """The path and query of the newest mailed link to `page` for EMAIL."""
    bodies = [row[0] for row in site.rows("SELECT body FROM care_notification WHERE to_email = %s", EMAIL)]
    links = [match for body in bodies for match in re.findall(rf"/{page}\?token=[\w%-]+", body)]
    assert links, f"no {page} link mailed to {EMAIL}: {bodies}"
    return links[-1]


def test_an_invited_patient_sets_her_password_then_resets_it(site, browser, tmp_path):
    # given staff registering a patient over HTTP (a server without trusted-documents mode on the
    # same database: registerPatient is no operation of the web app)
    with serving(production_env(DATABASE_URL=site.url), tmp_path / "staff-api.log") as api:
        staff = api.graphql(
            "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token } }",
            {"u": "coordinator", "p": PASSWORD},
        )
        token = staff.data["tokenAuth"]["token"]
        answer = api.graphql(
            REGISTER,
            {
                "input": {
                    "email": EMAIL,
                    "firstName": "Nadia",
                    "lastName": "Invited",
                    "dateOfBirth": "1990-04-01",
                    "username": "nadia",
                }
            },
            token=token,
        )
        assert "errors" not in answer.body, answer.body
    app = App(browser, site.server.base_url)
    # when she opens the invitation link and picks a weak password
    browser.get(f"{site.server.base_url}{mailed_link(site, 'accept-invitation')}")
    app.find("#accept-invitation")
    assert "token" not in browser.current_url  # the token leaves the address bar at once
    app.type("#new-password", "short")
    app.click("#accept-invitation button[type=submit]")
    # then the validator's message shows next to the field, which is marked invalid
    assert app.text_of("#new-password-error", "short").text
    assert app.find("#new-password").get_attribute("aria-invalid") == "true"
    # when she picks a good one
    app.type("#new-password", "Harbour-Lantern-8842")
    app.click("#accept-invitation button[type=submit]")
    # then she is signed in, on her own record
    app.text_of("#who", "Nadia Invited")
    app.text_of("main h1", "My record")
    # when, signed out, she asks for a reset link on the sign-in screen
    app.sign_out()
    app.click("#forgot-password")
    app.type("#reset-email", EMAIL)
    app.click("#forgot-form button[type=submit]")
    app.text_of("#forgot-status", "on its way")
    # and opens it and sets a new password
    browser.get(f"{site.server.base_url}{mailed_link(site, 'reset-password')}")
    app.type("#new-password", "Meadow-Compass-5310")
    app.click("#reset-password button[type=submit]")
    # then the sign-in screen says so, the new password works, and the reset link does not again
    app.text_of("#session-notice", "password is changed")
    app.sign_in("nadia", "Meadow-Compass-5310")
    app.text_of("#who", "Nadia Invited")
    app.sign_out()
    browser.get(f"{site.server.base_url}{mailed_link(site, 'reset-password')}")
    app.type("#new-password", "Another-Compass-7731")
    app.click("#reset-password button[type=submit]")
    app.text_of("#link-error", "invalid or has already been used")
