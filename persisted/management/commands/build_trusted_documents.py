"""manage.py build_trusted_documents clients/operations/*.graphql -o clients/trusted-documents.json"""

import json

from django.core.management.base import BaseCommand, CommandError

from schema.persisted import ManifestError, build_manifest


class Command(BaseCommand):
    help = (
        "Writes Apollo's persisted-query manifest of the clients' .graphql operations: with "
        "TRUSTED_DOCUMENTS_ONLY=1 the API runs these documents and no others (docs/clients.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="the clients' .graphql operation files")
        parser.add_argument("-o", "--output", required=True, help="the manifest to write")
        parser.add_argument(
            "--no-add-typename",
            action="store_true",
            help="bodies as written: for clients that do not add __typename (Apollo's InMemoryCache does)",
        )

    def handle(self, *args, files, output, no_add_typename, **options):
        try:
            manifest = build_manifest(sorted(files), add_typename=not no_add_typename)
        except (ManifestError, OSError) as error:
            raise CommandError(str(error)) from error
        with open(output, "w", encoding="utf-8") as file:
            json.dump(manifest, file, indent=2)
            file.write("\n")
        self.stdout.write(f"{len(manifest['operations'])} operations written to {output}")
