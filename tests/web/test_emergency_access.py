"""The web app's emergency-access screens (DESIGN.md sections 9 and 11) in headless Chromium against
a real gunicorn in trusted-documents mode: a doctor not assigned to a patient breaks the glass and
finds the patient on his worklist; staff see the grant and review it."""

from tests.ops.sites import PASSWORD
from tests.web.conftest import needs_chromium
from tests.web.test_browser import App, manifest_document, sign_in_over_http

pytestmark = needs_chromium

REASON = "Unconscious in the emergency room, allergies unknown"


def patient_id(server, token: str, search: str) -> str:
    """A patient's global ID as staff read it from the patient directory (what they would read out to the doctor)."""
    answer = server.graphql(
        manifest_document("PatientDirectory"), {"first": 5, "after": None, "search": search}, token=token
    )
    (edge,) = answer.data["patients"]["edges"]
    return edge["node"]["id"]


def test_a_doctor_breaks_the_glass_sees_the_patient_and_staff_review_it_as_justified(site, browser):
    app = App(browser, site.server.base_url)
    carol = patient_id(site.server, sign_in_over_http(site.server, "coordinator"), "Carol")
    # given dr. house, not assigned to carol: she is not on his worklist
    app.sign_in("dr.house")
    app.text_of("#worklist-count", "0 patients")
    # when he asks for emergency access with too short a reason
    app.click("details.emergency summary")
    app.type("#emergency-patient", carol)
    app.driver.execute_script("document.getElementById('emergency-reason').removeAttribute('minlength')")
    app.type("#emergency-reason", "urgent")
    app.type("#emergency-password", "not his password")
    app.click_text("Break the glass")
    # then the API's refusal is a readable message, not a code
    refused = app.find("#emergency-error").text
    assert "correct the marked fields" in refused and "BAD_USER_INPUT" not in refused
    # when he gives a reason and his password
    app.type("#emergency-reason", REASON)
    app.type("#emergency-password", PASSWORD)
    app.click_text("Break the glass")
    # then he is told until when, and carol is on his worklist; her record opens
    assert "until" in app.text_of("#emergency-status", "Emergency access to Carol Clark").text
    app.text_of("#worklist", "Carol Clark")
    app.click_text("Carol Clark")
    app.find("#patient-record")
    app.sign_out()

    # when the coordinator opens the emergency access list
    app.sign_in("coordinator")
    app.click("#tab-emergency")
    # then the grant awaits review with the doctor, the patient, the reason and its state
    row = app.text_of("#emergency-accesses", "Gregory House → Carol Clark").text
    assert REASON in row and "In force" in row
    # when she reviews it as justified with a note
    app.click("#emergency-accesses input[value=JUSTIFIED]")
    app.type("#emergency-accesses textarea", "Seen in the ER log")
    app.click_text("Record verdict")
    # then it leaves the awaiting-review list and shows among the reviewed with the verdict
    app.text_of("#emergency-list-status", "Verdict recorded.")
    app.text_of("#emergency-count", "0 emergency accesses")
    app.choose("#emergency-filter", "Reviewed")
    reviewed = app.text_of("#emergency-accesses", "justified").text
    assert "Casey Coordinator" in reviewed and "Seen in the ER log" in reviewed
    # and, still in force, she can revoke it
    app.click_text("Revoke")
    app.text_of("#emergency-list-status", "Emergency access revoked.")
    assert "Ended by Casey Coordinator" in app.text_of("#emergency-accesses", "Ended").text
