"""Invitation and reset mails go through the outbox to a real SMTP server (aiosmtpd), carry the link
to the web app and nothing about anyone's care."""

import pytest

from tests.notifications.conftest import text_parts, worker_pass
from tests.users.conftest import (
    ACCEPT,
    NEW_PASSWORD,
    REGISTER_PATIENT,
    REQUEST_RESET,
    RESET,
    TOKEN_IN_LINK,
    make_account_manager,
    patient_input,
)


@pytest.mark.django_db(transaction=True)
def test_an_invitation_and_a_reset_link_arrive_by_smtp_and_work(gql, smtp_up, settings):
    settings.FRONTEND_URL = "https://app.clinic.example"
    registrar = make_account_manager()
    # given staff registered a patient, and the request wrote the mail without sending it
    result = gql.execute(REGISTER_PATIENT, {"input": patient_input(dateOfBirth="1966-07-08")}, user=registrar)
    assert result.errors == []
    assert smtp_up.messages == []
    # when the worker runs
    assert worker_pass() == "1 sent, 0 to retry, 0 failed."
    # then the invitation arrived, to the patient, text and HTML, with a link to the web app
    (invitation,) = smtp_up.messages_to("new.patient@clinic.example")
    plain, html = text_parts(invitation)
    assert invitation["Subject"] == "Your Clinic API account"
    assert "https://app.clinic.example/accept-invitation?token=" in plain
    assert "https://app.clinic.example/accept-invitation?token=" in html
    assert "72 hours" in plain
    # and nothing about the patient's care or identity beyond the greeting: no date of birth, no MRN
    for text in (invitation["Subject"], plain, html):
        assert "1966" not in text and "MRN-" not in text
    # and the link's token sets the password
    token = TOKEN_IN_LINK.search(plain)[1]
    assert gql.execute(ACCEPT, {"input": {"token": token, "password": NEW_PASSWORD}}).errors == []

    # when the patient later asks for a reset, and someone asks for an unknown address
    for email in ("new.patient@clinic.example", "nobody@clinic.example"):
        assert gql.execute(REQUEST_RESET, {"input": {"email": email}}).errors == []
    assert worker_pass() == "1 sent, 0 to retry, 0 failed."
    # then only the patient got a mail, with a 30-minute link that resets the password
    assert smtp_up.messages_to("nobody@clinic.example") == []
    reset_mail = smtp_up.messages_to("new.patient@clinic.example")[-1]
    plain, html = text_parts(reset_mail)
    assert reset_mail["Subject"] == "Reset your Clinic API password"
    assert "https://app.clinic.example/reset-password?token=" in plain and "30 minutes" in plain
    token = TOKEN_IN_LINK.search(plain)[1]
    result = gql.execute(RESET, {"input": {"token": token, "newPassword": "reset-by-mail-passphrase-1"}})
    assert result.errors == []
