from django.core.management.base import BaseCommand, CommandError, CommandParser

from pulpanalytics.forget import forget_systems
from pulpanalytics.system_ids import canonical_system_id, hash_system_id

HASH_LENGTH = 64


class Command(BaseCommand):
    help = (
        "Delete every row held for the given systems (registry, raw reports, components), "
        "for a deletion request. Takes the system_id as the installation sends it, or the hash "
        "the admin shows. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("system_ids", nargs="+", metavar="system_id")

    def handle(self, *args: object, system_ids: list[str], **options: object) -> None:
        hashes = [self._hash(value.strip()) for value in system_ids]
        forgotten = forget_systems(system_hashes=hashes)
        self.stdout.write(f"Forgot {forgotten}")

    def _hash(self, value: str) -> str:
        if canonical_system_id(value):
            return hash_system_id(value)
        lowered = value.lower()
        if len(lowered) == HASH_LENGTH and all(c in "0123456789abcdef" for c in lowered):
            return lowered
        raise CommandError(f"{value!r} is neither a system_id (UUID) nor a 64-hex system hash")
