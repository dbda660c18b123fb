"""`manage.py check_translations`: the entries the id and nl catalogues lack."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from desk.translations import catalogue_problems, fresh_catalogue_problems


class Command(BaseCommand):
    help = (
        "List strings marked in the code that the Indonesian or Dutch catalogue lacks, "
        "leaves untranslated or fuzzy, or translates with other placeholders."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--as-is",
            action="store_true",
            help="Check locale/ as it is, without running makemessages first.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        if options["as_is"]:
            problems = catalogue_problems(settings.LOCALE_PATHS[0])
        else:
            problems = fresh_catalogue_problems()
        for problem in problems:
            self.stdout.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} catalogue entries need work.")
        self.stdout.write(self.style.SUCCESS("Every marked string is translated in id and nl."))
