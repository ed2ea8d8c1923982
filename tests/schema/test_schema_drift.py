from pathlib import Path

from strawberry.printer import print_schema

from schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_code():
    # given the SDL exported from the code
    exported = print_schema(schema)
    # then schema.graphql holds exactly that (regenerate with `make schema`)
    assert SCHEMA_FILE.read_text().strip() == exported.strip(), "schema.graphql is stale: run `make schema`"
