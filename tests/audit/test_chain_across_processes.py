"""Appenders in two processes, many threads each, released together: every shard's chain stays
numbered without gaps, linked, and ends at its head row; nothing is lost. On an SQLite file (one
chain) and on PostgreSQL (16 shards, one head row lock each)."""

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from ops.launch import run_manage
from tests.ops.servers import own_database, production_env

REPO = Path(__file__).resolve().parents[2]
THREADS = 6
TIMES = 15
on_postgres = pytest.mark.skipif(
    "postgres" not in os.environ.get("DATABASE_URL", ""),
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI runs the suite there too)",
)



def chain_rows(url: str) -> list[tuple[int, int, str, str]]:
    query = "SELECT shard, sequence, prev_hash, hash FROM audit_auditevent ORDER BY shard, sequence"
    heads = "SELECT shard, sequence, hash FROM audit_auditchainhead ORDER BY shard"
    if url.startswith("sqlite"):
        with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
            return db.execute(query).fetchall(), db.execute(heads).fetchall()
    with closing(psycopg.connect(url)) as db:
        return db.execute(query).fetchall(), db.execute(heads).fetchall()


@pytest.mark.parametrize(
    "kind", [pytest.param("sqlite"), pytest.param("postgres", marks=[pytest.mark.postgres, on_postgres])]
)
def test_two_processes_of_parallel_appenders_keep_every_shard_gapless(kind, tmp_path):
    with own_database(kind, tmp_path, label="audit_procs") as url:
        # given a migrated database with 8 patients
        env = {**production_env(DATABASE_URL=url), "DJANGO_SETTINGS_MODULE": "clinic.settings_test"}
        env["AUDIT_CHAIN_SHARDS"] = "16"
        run_manage(env, "migrate", "--noinput")
        worker = [sys.executable, "-m", "tests.audit.append_events"]
        seeded = subprocess.run(
            [*worker, "seed", "8"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=True
        )
        patients = seeded.stdout.strip().splitlines()[-1]
        before, _ = chain_rows(url)
        # when two processes of THREADS appenders each start on one signal
        processes = [
            subprocess.Popen(
                [*worker, "append", str(THREADS), str(TIMES), patients],
                cwd=REPO,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for process in processes:
                assert process.stdout.readline().strip() == "ready"
            for process in processes:
                process.stdin.write("go\n")
                process.stdin.flush()
            outputs = [process.communicate(timeout=300) for process in processes]
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
        assert [process.returncode for process in processes] == [0, 0], [err[-3000:] for _, err in outputs]
        appended = sum(json.loads(out.strip().splitlines()[-1])["appended"] for out, _ in outputs)
        # then every event is there, and each shard is 1, 2, 3, … linked hash to hash, ending at its head
        rows, heads = chain_rows(url)
        assert len(rows) - len(before) == appended
        by_shard: dict[int, list] = {}
        for shard, sequence, prev_hash, event_hash in rows:
            by_shard.setdefault(shard, []).append((sequence, prev_hash, event_hash))
        for shard, chain in by_shard.items():
            assert [sequence for sequence, _, _ in chain] == list(range(1, len(chain) + 1)), f"shard {shard}"
            assert [prev for _, prev, _ in chain[1:]] == [h for _, _, h in chain[:-1]], f"shard {shard}"
            assert (shard, chain[-1][0], chain[-1][2]) in heads
        if kind == "sqlite":
            assert set(by_shard) == {0}  # one chain
        else:
            assert len(by_shard) > 3  # the patients spread over shards
        # and the whole trail verifies, content hashes included
        verified = run_manage(env, "verify_audit")
        assert f"Audit chain intact: {len(rows)} events" in verified.stdout
