"""Scale-out proof: two gunicorn instances on one PostgreSQL database, over real HTTP.

Instance A runs gthread workers, instance B sync workers and a read replica
(DATABASE_REPLICA_URL: the same database through a read-only connection, so a write routed
there would fail). What one instance does to sessions, lockouts and the outbox, the other sees.
"""

import email
import json
import re
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection
from django.utils import timezone

from care.models import Notification, NotificationStatus
from tests import factories
from tests.conftest import global_id, requires_postgres
from tests.ops.servers import BASE_DIR, MailCatcher, Server, database_url, free_port, production_env, run_manage

pytestmark = [requires_postgres, pytest.mark.postgres]

LOGIN = "mutation Login($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { token refreshToken } }"
ME = "query Me { me { username } }"
REFRESH = "mutation Refresh($r: String) { refreshToken(refreshToken: $r) { token refreshToken } }"
REVOKE = "mutation Logout($r: String) { revokeToken(refreshToken: $r) { revoked } }"
REVOKE_ALL = "mutation LogoutEverywhere { revokeAllSessions { revokedSessions } }"
ASSIGN = "mutation Assign($input: AssignDoctorInput!) { assignDoctor(input: $input) { id } }"
DOCTORS = "query Directory { doctors(first: 10) { edges { node { fullName specialty } } } }"
REPLICA_APP_NAME = "clinic-replica-scaleout-test"


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory):
    """Two instances (and the files they write), stopped at the end of the module."""
    root = tmp_path_factory.mktemp("cluster")
    smtp_nobody_listens = free_port(set())
    env = production_env(
        STATIC_ROOT=str(root / "static"),
        # No relay listens here: the rows stay pending until the workers below send them.
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_nobody_listens),
        EMAIL_TIMEOUT="2",
    )
    run_manage(env, "collectstatic", "--noinput")
    a_port = free_port({smtp_nobody_listens})
    b_port = free_port({smtp_nobody_listens, a_port})
    replica_url = (
        f"{database_url()}?options=-c%20default_transaction_read_only%3Don&application_name={REPLICA_APP_NAME}"
    )
    servers = []
    try:
        servers.append(Server("A", a_port, {**env, "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}, root / "a.log"))
        servers.append(
            Server(
                "B",
                b_port,
                {**env, "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "1", "DATABASE_REPLICA_URL": replica_url},
                root / "b.log",
            )
        )
        for server in servers:
            server.wait_healthy()
        yield {"a": servers[0], "b": servers[1], "root": root, "env": env}
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def people(transactional_db, settings):
    # The instances run production settings: passwords must be hashed with a hasher they know.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    coordinator = factories.make_staff(username="coordinator")
    grey = factories.make_doctor(username="dr.grey")
    alice = factories.make_patient(username="alice")
    factories.assign(doctor=grey, patient=alice, by=coordinator)
    return {"coordinator": coordinator, "grey": grey, "alice": alice}


def login(server: Server, username: str, password: str = factories.PASSWORD) -> dict:
    response = server.graphql(LOGIN, {"u": username, "p": password})
    assert response.codes == [], response.body
    return response.data["tokenAuth"]


def test_both_instances_are_ready_on_one_database(cluster, people):
    # when
    answers = [cluster[name].get("/readyz") for name in ("a", "b")]
    # then
    for status, body, _headers in answers:
        assert status == 200, body
        assert b'"migrations": {"ok": true, "pending": 0}' in body


def test_worker_class_and_count_come_from_the_environment(cluster):
    # when: gunicorn's own (JSON) log lines of each instance
    messages = {
        name: [json.loads(line)["message"] for line in cluster[name].log().splitlines() if line.startswith("{")]
        for name in ("a", "b")
    }
    # then A: WEB_CONCURRENCY=1, GUNICORN_THREADS=4; B: WEB_CONCURRENCY=2, GUNICORN_THREADS=1
    assert "Using worker: gthread" in messages["a"]
    assert "Using worker: sync" in messages["b"]
    assert sum(m.startswith("Booting worker with pid") for m in messages["a"]) == 1
    assert sum(m.startswith("Booting worker with pid") for m in messages["b"]) == 2


def test_a_token_from_one_instance_works_on_the_other(cluster, people):
    # given
    session = login(cluster["a"], "dr.grey")
    # when
    me = cluster["b"].graphql(ME, token=session["token"])
    # then
    assert me.data == {"me": {"username": "dr.grey"}}


def test_revoke_token_on_one_instance_is_honoured_by_the_other_at_once(cluster, people):
    # given a session opened on B
    session = login(cluster["b"], "alice")
    # when it is logged out on A
    revoked = cluster["a"].graphql(REVOKE, {"r": session["refreshToken"]})
    # then B refuses its refresh token straight away
    assert revoked.data == {"revokeToken": {"revoked": True}}
    refused = cluster["b"].graphql(REFRESH, {"r": session["refreshToken"]})
    assert refused.data is None
    assert refused.codes and refused.codes[0] in {"TOKEN_REVOKED", "TOKEN_INVALID"}


def test_a_rotated_refresh_token_is_dead_on_the_other_instance(cluster, people):
    # given a session refreshed on A
    session = login(cluster["a"], "alice")
    fresh = cluster["a"].graphql(REFRESH, {"r": session["refreshToken"]})
    assert fresh.codes == []
    # when the old refresh token is replayed on B
    replay = cluster["b"].graphql(REFRESH, {"r": session["refreshToken"]})
    # then
    assert replay.data is None
    assert replay.codes == ["TOKEN_REVOKED"]


def test_logout_everywhere_on_one_instance_is_honoured_by_the_other_at_once(cluster, people):
    # given two sessions of dr.grey, one per instance
    on_a = login(cluster["a"], "dr.grey")
    on_b = login(cluster["b"], "dr.grey")
    assert cluster["a"].graphql(ME, token=on_b["token"]).data == {"me": {"username": "dr.grey"}}
    # when dr.grey logs out everywhere through A
    done = cluster["a"].graphql(REVOKE_ALL, token=on_a["token"])
    # then B refuses both the access token and the refresh token of the other session
    assert done.codes == [], done.body
    assert done.data["revokeAllSessions"]["revokedSessions"] == 2
    me = cluster["b"].graphql(ME, token=on_b["token"])
    assert me.data is None
    assert me.codes[0] in {"TOKEN_REVOKED", "TOKEN_INVALID"}
    refresh = cluster["b"].graphql(REFRESH, {"r": on_b["refreshToken"]})
    assert refresh.data is None
    assert refresh.codes[0] in {"TOKEN_REVOKED", "TOKEN_INVALID"}


def test_a_lockout_counted_on_one_instance_holds_on_the_other(cluster, people):
    # given five failed logins for alice, spread over both instances
    for attempt in range(5):
        server = cluster["a"] if attempt % 2 else cluster["b"]
        failed = server.graphql(LOGIN, {"u": "alice", "p": f"wrong-password-{attempt}"})
        assert failed.data is None
    # when the right password is tried on each instance
    on_a = cluster["a"].graphql(LOGIN, {"u": "alice", "p": factories.PASSWORD})
    on_b = cluster["b"].graphql(LOGIN, {"u": "alice", "p": factories.PASSWORD})
    # then both refuse: the counter lives in the database, not in a process
    assert on_a.codes == ["RATE_LIMITED"]
    assert on_b.codes == ["RATE_LIMITED"]
    # and another user is not locked out
    assert login(cluster["b"], "dr.grey")["token"]


def test_the_outbox_is_delivered_once_while_both_instances_and_two_workers_run(cluster, people, tmp_path):
    # given assignments made through both instances, whose immediate delivery failed (no SMTP)
    staff = login(cluster["a"], "coordinator")["token"]
    patients = [factories.make_patient(username=f"outbox{n}") for n in range(4)]
    doctor_id = global_id("Doctor", people["grey"].pk)
    for n, patient in enumerate(patients):
        server = cluster["a"] if n % 2 else cluster["b"]
        variables = {"input": {"doctorId": doctor_id, "patientId": global_id("Patient", patient.pk)}}
        assert server.graphql(ASSIGN, variables, token=staff).codes == []
    pending = list(Notification.objects.filter(status=NotificationStatus.PENDING).values_list("pk", flat=True))
    assert len(pending) >= len(patients)
    Notification.objects.filter(pk__in=pending).update(next_attempt_at=timezone.now())  # due now, not in minutes
    # when two outbox workers run at once, next to both instances, and mail is up again
    with MailCatcher(free_port({cluster["a"].port, cluster["b"].port})) as mail:
        worker_env = {**cluster["env"], "EMAIL_PORT": str(mail.port)}
        logs = [tmp_path / f"worker{n}.log" for n in range(2)]
        workers = []
        for log in logs:
            with log.open("wb") as out:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "send_notifications", "--loop", "--interval", "0.1"],
                        cwd=BASE_DIR,
                        env=worker_env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        try:
            deadline = time.monotonic() + 60
            while Notification.objects.filter(pk__in=pending, status=NotificationStatus.PENDING).exists():
                assert time.monotonic() < deadline, "the workers did not drain the outbox within 60 s"
                exited = [log.read_text() for worker, log in zip(workers, logs) if worker.poll() is not None]
                assert not exited, f"a worker exited: {exited}"
                time.sleep(0.1)  # the polling interval of a bounded wait
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
        accepted = [email.message_from_bytes(raw) for raw in mail.accepted]
    # then every notification was sent, and each exactly once
    statuses = set(Notification.objects.filter(pk__in=pending).values_list("status", flat=True))
    assert statuses == {NotificationStatus.SENT}
    sent_for = [re.search(r"notification-([0-9a-f-]{36})@", message["Message-ID"]).group(1) for message in accepted]
    assert sorted(sent_for) == sorted(str(pk) for pk in pending)


def test_directory_reads_use_the_replica_and_writes_never_do(cluster, people):
    # given B, whose replica connection is read-only
    session = login(cluster["b"], "coordinator")  # a write (refresh token, audit) on the primary
    # when the doctor directory is read through B
    directory = cluster["b"].graphql(DOCTORS, token=session["token"])
    # then it answers, and B holds a connection to the replica
    assert directory.codes == []
    assert {"fullName": people["grey"].user.full_name, "specialty": "Cardiology"} in [
        edge["node"] for edge in directory.data["doctors"]["edges"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND datname = current_database()",
            [REPLICA_APP_NAME],
        )
        assert cursor.fetchone()[0] >= 1


def test_admin_static_files_are_served_by_whitenoise(cluster):
    # given the admin's login page, which links collectstatic's hashed file names
    status, page, _headers = cluster["a"].get("/admin/login/")
    assert status == 200
    [stylesheet] = set(re.findall(rb"/static/admin/css/base\.[0-9a-f]{12}\.css", page))
    # when
    status, body, headers = cluster["a"].get(stylesheet.decode())
    # then served from the app process, cacheable forever
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"]
    assert b"body" in body


def test_request_log_lines_are_json_with_the_request_id_and_hold_no_secrets(cluster, people):
    # given distinctive secrets sent to A
    wrong_password = "Scaleout-Wrong-Pass-6620"
    allergy = "Scaleout-Allergy-Quince-3391"
    request_id = "scaleout-test-request-0042"
    cluster["a"].graphql(LOGIN, {"u": "alice", "p": wrong_password})
    session = login(cluster["a"], "alice")
    update = cluster["a"].graphql(
        "mutation Update($input: UpdateHealthRecordInput!) { updateHealthRecord(input: $input) { allergies } }",
        {"input": {"allergies": allergy}},
        token=session["token"],
        headers={"X-Request-ID": request_id},
    )
    # when
    log = cluster["a"].log()
    # then the request id came back and the request was logged as one JSON line...
    assert update.data == {"updateHealthRecord": {"allergies": allergy}}
    assert update.headers["X-Request-ID"] == request_id
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    [line] = [line for line in lines if line.get("request_id") == request_id and line["logger"] == "clinic.request"]
    assert line["graphql_operation_name"] == "Update"
    assert line["graphql_operation_type"] == "mutation"
    assert line["user_id"] == str(people["alice"].user.pk)
    assert line["status"] == 200
    assert line["db_queries"] > 0
    # ...and no secret is anywhere in either instance's output
    everything = log + cluster["b"].log()
    for secret in (wrong_password, factories.PASSWORD, allergy, session["token"], session["refreshToken"]):
        assert secret not in everything
