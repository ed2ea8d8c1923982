"""The README's curl lines work as printed: their JSON bodies, replayed after seed_demo."""

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

README = Path(__file__).resolve().parents[2] / "README.md"
# `-d '<json>'` in a curl line; the bodies hold no single quote.
CURL_BODY = re.compile(r"-d '(\{[^']*\})'")


def curl_bodies() -> list[dict]:
    text = README.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    return [json.loads(body) for block in blocks if "curl" in block for body in CURL_BODY.findall(block)]


def login_then_query_pairs() -> list[tuple[dict, dict]]:
    bodies = curl_bodies()
    pairs = []
    for login, query in zip(bodies, bodies[1:], strict=False):
        if "tokenAuth" in login["query"] and "tokenAuth" not in query["query"]:
            pairs.append((login, query))
    return pairs


def test_the_readme_prints_a_login_and_a_follow_up_query():
    # the parse below must find what the README shows, or the replay would prove nothing
    pairs = login_then_query_pairs()
    assert len(pairs) >= 1
    assert all("tokenAuth" in login["query"] for login, _ in pairs)


@pytest.mark.parametrize("pair", range(len(login_then_query_pairs())))
def test_the_readme_curl_flow_works_as_printed(client, db, pair):
    # given the demo data, as `make run` seeds it
    call_command("seed_demo", stdout=io.StringIO())
    login, query = login_then_query_pairs()[pair]
    # when the login body is posted as printed
    response = client.post("/graphql/", data=json.dumps(login), content_type="application/json")
    answer = response.json()
    # then it answers a token
    assert response.status_code == 200
    assert "errors" not in answer or not answer["errors"], answer
    token = answer["data"]["tokenAuth"]["token"]
    # and the follow-up query, with the Bearer header, answers data
    response = client.post(
        "/graphql/", data=json.dumps(query), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    answer = response.json()
    assert response.status_code == 200
    assert not answer.get("errors"), answer
    data = answer["data"]
    assert data and all(value is not None for value in data.values())
    if "patients" in data:  # dr.grey's worklist: alice, with her record
        assert data["me"] == {"fullName": "Meredith Grey", "role": "DOCTOR"}
        assert [edge["node"]["fullName"] for edge in data["patients"]["edges"]] == ["Alice Adams"]
        assert data["patients"]["edges"][0]["node"]["healthRecord"] is not None
    if "myHealthRecord" in data:  # alice's own record
        assert set(data["myHealthRecord"]) == {"bloodType", "allergies", "updatedAt"}
