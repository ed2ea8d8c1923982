"""The reference web app (web/) in headless Chromium against a real gunicorn (issue 16).

Each role's main path, as a person would click it: the patient edits her record and sees the
change in its history and in her doctor's view; the doctor annotates and retracts; staff assign a
doctor, who then finds the patient on his worklist; a refused action shows its readable message;
a session ended elsewhere sends the app back to sign-in with a notice; an expired access token is
refreshed silently, once for the several requests that found it expired.

The server runs in trusted-documents mode with the committed manifest, so every operation the app
sends is one of clients/operations/ (validated against the schema when the manifest was built).
"""

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.ops.servers import Server, launch, production_env, run_manage
from tests.ops.sites import PASSWORD
from tests.web.conftest import DESK, MANIFEST, PHONE, needs_chromium

pytestmark = needs_chromium

WAIT = 20  # seconds: the bound of every wait for the page (never a fixed sleep)


class App:
    """The app in one browser: what a person does (sign in, click, type) and what she sees."""

    def __init__(self, driver, base_url: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.base_url = driver, base_url
        # A re-render replaces elements between finding and reading them: look again.
        self._wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))

    def until(self, condition):
        """Wait for `condition`; on a timeout, fail with what the page showed and logged."""
        from selenium.common.exceptions import TimeoutException

        try:
            return self._wait.until(condition)
        except TimeoutException:
            body = self.driver.find_element("tag name", "body").text
            console = self.driver.get_log("browser")
            raise AssertionError(f"timed out at {self.driver.current_url}; page:\n{body}\nconsole: {console}") from None

    def find(self, css: str):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def text_of(self, css: str, text: str):
        """Wait until the element at `css` shows `text`; the element."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        self.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return self.find(css)

    def click(self, css: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        self.until(ec.element_to_be_clickable((By.CSS_SELECTOR, css))).click()

    def click_text(self, text: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        self.until(
            ec.element_to_be_clickable((By.XPATH, f"//*[self::button or self::a][normalize-space()='{text}']"))
        ).click()

    def choose(self, css: str, starting: str) -> None:
        """Pick the option of the <select> at `css` whose label starts with `starting`."""
        from selenium.webdriver.support.ui import Select

        def pick(driver) -> bool:  # the options may be re-rendered under us: try again until it holds
            for option in Select(driver.find_element("css selector", css)).options:
                if option.text.startswith(starting):
                    option.click()
                    return option.is_selected()
            return False

        self.until(pick)

    def type(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        self.driver.get(f"{self.base_url}/")
        self.type("#username", username)
        self.type("#password", password)
        self.click("button[type=submit]")
        self.find("#sign-out")

    def sign_out(self) -> None:
        self.click("#sign-out")
        self.find("#username")

    def storage(self) -> dict:
        """Everything the page keeps in Web Storage (the app keeps nothing there)."""
        return self.driver.execute_script(
            "return {local: Object.assign({}, localStorage), session: Object.assign({}, sessionStorage)}"
        )

    def screenshot(self, directory, name: str) -> None:
        """The screen at a desk's width and a phone's (the same page, laid out for each, neither wider
        than its window)."""
        for suffix, (width, height) in (("", DESK), ("-phone", PHONE)):
            self.driver.set_window_size(width, height)
            self.find("main h1")
            self.driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
            # the layout fits the width: nothing to scroll sideways, on a phone either
            fits = "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            assert self.driver.execute_script(fits), f"{name} is wider than {width} pixels"
            self.driver.save_screenshot(str(directory / f"{name}{suffix}.png"))
        self.driver.set_window_size(*DESK)


def second_env(site, **settings: str) -> dict[str, str]:
    """The environment of another gunicorn on the site's database: trusted documents as the first,
    and `settings` different."""
    return production_env(
        DATABASE_URL=site.url, TRUSTED_DOCUMENTS_ONLY="1", TRUSTED_DOCUMENTS_MANIFEST=str(MANIFEST), **settings
    )


@contextmanager
def serving(env: dict[str, str], log_path) -> Iterator[Server]:
    """A gunicorn with `env`, healthy, stopped afterwards."""
    server = launch(log_path.stem, env, log_path)
    try:
        yield server
    finally:
        server.stop()


def manifest_document(name: str) -> str:
    """The text of operation `name` as the committed manifest has it (the servers here run only those)."""
    operations = json.loads(MANIFEST.read_text())["operations"]
    return next(operation["body"] for operation in operations if operation["name"] == name)


def sign_in_over_http(server, username: str) -> str:
    """A session of `username` from another client (not the browser): its access token."""
    answer = server.graphql(manifest_document("Login"), {"username": username, "password": PASSWORD})
    return answer.data["tokenAuth"]["token"]


def request_log(server) -> list[dict]:
    """The server's JSON request log lines for /graphql/, in order."""
    entries = []
    for line in server.log().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and str(entry.get("path", "")).startswith("/graphql"):
            entries.append(entry)
    return entries


def operations(server, since: int = 0) -> Counter:
    """(operation name, first error code or None) of each request logged after the `since`-th."""
    return Counter(
        (entry.get("graphql_operation_name"), (entry.get("graphql_error_codes") or [None])[0])
        for entry in request_log(server)[since:]
    )


def test_patient_edits_her_record_and_her_doctor_sees_it_then_annotates(site, browser, screenshots):
    app = App(browser, site.server.base_url)
    # given alice, signed in: her record is her main screen
    app.sign_in("alice")
    app.text_of("main h1", "My record")
    # when she gives a height out of range
    app.type("#heightCm", "1000")
    app.click("#record-form button[type=submit]")
    # then the API's message for that field shows next to it, and the field is marked invalid
    assert app.text_of("#heightCm-error", "300").text
    assert app.find("#heightCm").get_attribute("aria-invalid") == "true"
    assert "correct the marked fields" in app.find("#record-error").text
    # when she corrects it and changes her allergies
    app.type("#heightCm", "170")
    app.type("#allergies", "Peanuts (since 2026)")
    app.click("#record-form button[type=submit]")
    # then the change is saved and is the newest entry of the history timeline
    app.text_of("#record-status", "Saved.")
    newest = app.text_of("#history > li:first-child", "Peanuts (since 2026)").text
    assert "allergies" in newest and "Alice Adams (patient)" in newest
    # and nothing of it (nor any token) was put in Web Storage
    assert app.storage() == {"local": {}, "session": {}}
    app.screenshot(screenshots, "patient")
    app.sign_out()

    # when her doctor opens her from his worklist
    app.sign_in("dr.grey")
    app.text_of("#worklist", "Alice Adams")
    app.screenshot(screenshots, "doctor")
    app.click_text("Alice Adams")
    # then he sees her change
    assert app.text_of("#patient-allergies", "Peanuts (since 2026)").text == "Peanuts (since 2026)"
    # when he annotates her record
    app.type("#annotation-body", "Discussed the peanut allergy; epinephrine prescribed.")
    app.click_text("Add annotation")
    # then the annotation is listed with his name
    note = app.text_of("#annotations", "epinephrine prescribed").text
    assert "Meredith Grey" in note
    # when he retracts it, with a reason
    app.click_text("Retract")
    app.type("#retract-reason", "Wrong patient")
    app.click_text("Retract annotation")
    # then it stays visible, marked retracted with the reason
    assert "Retracted: Wrong patient" in app.text_of("#annotations .retracted", "Wrong patient").text
    app.sign_out()


def test_staff_assign_a_doctor_who_then_sees_the_patient_and_a_refused_assignment_says_why(site, browser, screenshots):
    app = App(browser, site.server.base_url)
    # given the coordinator on the assignments screen, dr. house having no patients
    app.sign_in("coordinator")
    app.text_of("main h1", "Assignments")
    app.text_of("#doctorId", "Gregory House")
    app.text_of("#patientId", "Bob Brown")
    # when she assigns dr. house to bob
    app.choose("#doctorId", "Gregory House")
    app.choose("#patientId", "Bob Brown")
    app.click_text("Assign")
    # then she is told so and the assignment is listed
    app.text_of("#assign-status", "Gregory House is now assigned to Bob Brown.")
    app.text_of("#assignments", "Gregory House → Bob Brown")
    app.screenshot(screenshots, "staff")
    # when she assigns the same pair again
    app.click_text("Assign")
    # then the refusal is shown as a readable message (CONFLICT), not a code
    refused = app.text_of("#assign-error", "conflicts").text
    assert "CONFLICT" not in refused
    # and the doctor directory lists the doctors
    app.click("#tab-doctors")
    assert "Gregory House" in app.text_of("#doctors", "Meredith Grey").text
    app.sign_out()

    # when dr. house signs in
    app.sign_in("dr.house")
    # then bob is on his worklist, and his record opens
    app.text_of("#worklist", "Bob Brown")
    app.click_text("Bob Brown")
    app.find("#patient-record")


def test_a_session_ended_elsewhere_brings_the_app_back_to_sign_in_with_a_notice(site, browser):
    app = App(browser, site.server.base_url)
    # given carol signed in, on her record
    app.sign_in("carol")
    app.find("#record-form")
    # when she changes her password on another device (which ends every other session)
    changed = site.server.graphql(
        manifest_document("ChangePassword"),
        {"input": {"oldPassword": PASSWORD, "newPassword": "a-new-password-for-carol-2026"}},
        token=sign_in_over_http(site.server, "carol"),
    )
    assert changed.data["changePassword"]["token"]
    # and she goes on to her access log
    app.click("#tab-access")
    # then the app is back at sign-in and says why, in words
    notice = app.text_of("#session-notice", "Your session has ended").text
    assert "session was ended" in notice and "TOKEN_REVOKED" not in notice
    app.find("#username")
    assert app.storage() == {"local": {}, "session": {}}


@pytest.fixture
def short_token_server(site, tmp_path):
    """A second gunicorn on the site's database whose access tokens last one second."""
    with serving(
        second_env(site, DJANGO_SETTINGS_MODULE="tests.web.short_tokens_settings"), tmp_path / "short.log"
    ) as server:
        yield server


def wait_until_tokens_issued_now_expired(server, username: str) -> None:
    """Until an access token issued after the browser's has expired (so the browser's has too),
    as the server itself judges it: a bounded poll, not a fixed sleep."""
    from selenium.webdriver.support.ui import WebDriverWait

    token = sign_in_over_http(server, username)
    me = manifest_document("Me")
    WebDriverWait(None, WAIT, poll_frequency=0.2).until(
        lambda _: server.graphql(me, token=token).codes == ["TOKEN_EXPIRED"]
    )


def test_an_expired_access_token_is_refreshed_silently_once_for_all_requests(short_token_server, browser):
    server = short_token_server
    app = App(browser, server.base_url)
    # given the coordinator signed in (assignments screen), and her access token expired since
    app.sign_in("coordinator")
    app.text_of("#assignments", "Meredith Grey")
    app.click("#tab-doctors")
    app.text_of("#doctors", "Meredith Grey")
    wait_until_tokens_issued_now_expired(server, "dr.house")
    before = len(request_log(server))
    # when she opens the assignments screen, which sends three queries at once
    app.click("#tab-assignments")
    # then she sees it, with no notice and still signed in
    app.text_of("#assignments", "Meredith Grey")
    app.text_of("#doctorId", "Meredith Grey")
    app.text_of("#patientId", "Alice Adams")
    assert browser.find_elements("css selector", "#session-notice") == []
    app.find("#sign-out")
    # and the three expired requests shared one refresh, each retried once with the new token
    sent = operations(server, before)
    assert sent[("Refresh", None)] == 1
    assert sum(count for (name, code), count in sent.items() if code == "TOKEN_EXPIRED") == 3
    assert sent[("Assignments", None)] == sent[("Doctors", None)] == sent[("PatientDirectory", None)] == 1


def test_my_sessions_lists_and_ends_another_session_and_a_password_change_keeps_this_one(site, browser):
    app = App(browser, site.server.base_url)
    # given bob signed in on another device, and in this browser
    elsewhere = sign_in_over_http(site.server, "bob")
    app.sign_in("bob")
    # when he opens his account
    app.click("#tab-account")
    # then both sessions are listed, this one named as such and not offered for ending
    sessions = app.text_of("#sessions", "This browser")
    assert len(sessions.find_elements("css selector", "li")) == 2
    # when he ends the other one
    app.click_text("End this session")
    # then it is gone from the list, and the other device is signed out
    app.until(lambda driver: len(driver.find_elements("css selector", "#sessions li")) == 1)
    assert site.server.graphql(manifest_document("Me"), token=elsewhere).codes == ["TOKEN_REVOKED"]
    # when he changes his password, with a wrong current one first
    app.type("#old-password", "not-my-password")
    app.type("#new-password", "bobs-new-password-2026")
    app.click_text("Change password")
    app.find("#password-error")
    app.type("#old-password", PASSWORD)
    app.type("#new-password", "bobs-new-password-2026")
    app.click_text("Change password")
    # then he is told, and this browser goes on with the fresh session the answer carried
    app.text_of("#password-status", "Password changed")
    app.click("#tab-record")
    app.find("#record-form")
    assert browser.find_elements("css selector", "#session-notice") == []


def test_auditors_read_the_trail_and_filter_it(site, browser, screenshots):
    # given the coordinator holding audit.view_auditevent (an auditor), after assignments were made
    run_manage(
        production_env(DATABASE_URL=site.url),
        "shell",
        "-c",
        "from django.contrib.auth.models import Permission; from users.models import User; "
        "User.objects.get(username='coordinator').user_permissions.add("
        "Permission.objects.get(codename='view_auditevent'))",
    )
    app = App(browser, site.server.base_url)
    app.sign_in("coordinator")
    # when she opens the audit trail
    app.click("#tab-audit")
    # then it lists events, newest first, with who did what
    app.text_of("#audit-trail", "login success")
    app.screenshot(screenshots, "auditor")
    # when she filters by one action
    app.choose("#audit-action", "assignment create")
    app.click_text("Filter")
    # then only that action is listed
    actions = "return [...document.querySelectorAll('#audit-trail tbody td:nth-child(4)')].map(td => td.textContent)"
    app.until(lambda driver: set(driver.execute_script(actions)) == {"assignment create"})


@pytest.fixture
def cookie_mode_server(site, tmp_path):
    """A second gunicorn on the site's database in browser cookie mode (JWT_REFRESH_COOKIE=1)."""
    with serving(second_env(site, JWT_REFRESH_COOKIE="1"), tmp_path / "cookie-mode.log") as server:
        yield server


def test_in_cookie_mode_a_reload_keeps_the_session_and_no_token_is_readable(cookie_mode_server, browser):
    app = App(browser, cookie_mode_server.base_url)
    # given dr. grey signed in through a server in cookie mode
    app.sign_in("dr.grey")
    app.text_of("#worklist", "Alice Adams")
    # when the page is reloaded (the access token in memory is gone)
    browser.refresh()
    # then the HttpOnly refresh cookie resumes the session
    app.text_of("#worklist", "Alice Adams")
    # and the page can read only the CSRF token: no refresh or access token, nothing in Web Storage
    readable = browser.execute_script("return document.cookie")
    assert readable.startswith("clinic-csrf-token=") and ";" not in readable
    assert app.storage() == {"local": {}, "session": {}}
    # when he signs out and reloads
    app.sign_out()
    browser.refresh()
    # then nothing resumes
    app.find("#username")
    assert browser.find_elements("css selector", "#sign-out") == []


@pytest.fixture
def mfa_server(site, tmp_path):
    """A second gunicorn on the site's database where doctors must use TOTP (MFA_REQUIRED_ROLES),
    and a doctor of its own (the others sign in on the first server without a second factor)."""
    env = second_env(site, MFA_REQUIRED_ROLES="DOCTOR")
    run_manage(
        env,
        "shell",
        "-c",
        "from users.services import doctor_create, user_create; "
        "doctor_create(user=user_create(username='dr.quinn', email='dr.quinn@clinic.example', "
        f"password='{PASSWORD}', first_name='Michaela', last_name='Quinn'), "
        "specialty='Family medicine', license_number='LIC-QUINN-1')",
    )
    with serving(env, tmp_path / "mfa.log") as server:
        yield server


def test_a_doctor_whose_role_requires_totp_enrols_then_signs_in_with_a_second_factor(mfa_server, browser):
    import pyotp

    app = App(browser, mfa_server.base_url)
    # given a doctor without TOTP, whose role requires it: her password gives an enrol-only session
    browser.get(f"{mfa_server.base_url}/")
    app.type("#username", "dr.quinn")
    app.type("#password", PASSWORD)
    app.click("button[type=submit]")
    # when the app shows the key, and she enters her authenticator's code
    secret = app.find("#totp-secret").text
    app.type("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    app.click_text("Turn on")
    # (a wrong code first: refused, in words, and the field marked)
    assert "Please correct the marked fields." in app.find("#enrol-error").text
    assert app.find("#code").get_attribute("aria-invalid") == "true"
    app.type("#code", pyotp.TOTP(secret).now())
    app.click_text("Turn on")
    # then she is shown her ten recovery codes once
    codes = app.find("#recovery-codes").find_elements("css selector", "li")
    recovery = [code.text for code in codes]
    assert len(recovery) == 10
    # and, going on, the session is a full one: her (empty) worklist
    app.click_text("I have kept them, continue")
    app.text_of("#worklist-count", "0 patients")
    app.sign_out()
    # when she signs in again: after the password, the app asks for the second factor
    app.type("#username", "dr.quinn")
    app.type("#password", PASSWORD)
    app.click("button[type=submit]")
    app.find("#mfa-step")
    # (a recovery code stands in for this step's code, which her enrolment already used)
    app.type("#code", recovery[0])
    app.click_text("Verify")
    # then she is in
    app.text_of("#worklist-count", "0 patients")
    assert app.storage() == {"local": {}, "session": {}}
