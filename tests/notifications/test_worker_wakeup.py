"""An idle worker wakes for new mail at once on PostgreSQL (LISTEN/NOTIFY) and polls every second elsewhere."""

import time

import pytest
from django.db import connection

from tests import factories
from tests.conftest import requires_postgres
from tests.notifications.processes import DEADLINE, Worker
from tests.notifications.test_worker_race import worker_process_env
from tests.ops.servers import run_manage


def wait_for_line(worker: Worker, text: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while text not in worker.log():
        assert worker.process.poll() is None, worker.log()
        assert time.monotonic() < deadline, worker.log()
        time.sleep(0.05)  # the polling interval of a bounded wait


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_listening_worker_sends_new_mail_at_once_not_at_its_next_poll(smtp_up, tmp_path):
    # given a worker that would poll only every 300 s, idle and listening
    worker = Worker("worker", worker_process_env(smtp_up.port), tmp_path / "worker.log", "--interval", "300")
    try:
        wait_for_line(worker, "Notification worker started (woken by PostgreSQL NOTIFY, polling every 300s")
        # when an assignment commits its two mails
        committed = time.perf_counter()
        factories.assign(doctor=factories.make_doctor(), patient=factories.make_patient())
        # then the worker sent both long before its next poll (the wait gives up after SAFETY_TIMEOUT < 300 s)
        assert smtp_up.handler.wait_for_accepted(2), worker.log()
        print(f"\ncommit to both mails accepted by SMTP: {(time.perf_counter() - committed) * 1000:.0f} ms")
        assert len(smtp_up.messages) == 2
    finally:
        assert worker.stop() == 0
    assert worker.log().strip().splitlines()[-1] == "2 sent, 0 to retry, 0 failed."


@pytest.mark.django_db(transaction=True)
def test_by_default_the_worker_polls_every_second_without_listen_and_every_30_s_with_it(smtp_up, tmp_path):
    # given the suite's database (a file for SQLite: the worker process must be able to open it)
    env = worker_process_env(smtp_up.port)
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'idle.sqlite3'}"
        run_manage(env, "migrate", "--noinput")
    # when a worker starts without --interval
    worker = Worker("worker", env, tmp_path / "worker.log")
    try:
        wait_for_line(worker, "Notification worker started")
    finally:
        assert worker.stop() == 0
    # then
    expected = (
        "woken by PostgreSQL NOTIFY, polling every 30s" if connection.vendor == "postgresql" else "polling every 1s"
    )
    assert f"Notification worker started ({expected}, batch 100)." in worker.log()
