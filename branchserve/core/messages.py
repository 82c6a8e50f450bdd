"""Refresh and compile the zh-Hans translation catalogues (``make messages``).

Usage::

    python -m branchserve.core.messages                 # every catalogue
    python -m branchserve.core.messages org devices     # only these apps' catalogues
    python -m branchserve.core.messages project         # only branchserve/locale
    python -m branchserve.core.messages --compile-only  # only compile .po → .mo

Each app with a ``locale/`` folder owns a catalogue, ``branchserve/<app>/locale/zh_Hans/``;
naming an app that has none creates its folder. Everything else — ``branchserve/templates/``,
``settings.py``, ``api.py``, ``core/`` and apps without a ``locale/`` folder — goes to the
project catalogue, ``branchserve/locale/``.

How Django's ``makemessages`` picks the catalogue: it walks the current directory, and each
``locale/`` folder it meets claims the files under that folder's parent (the app); a file that
no folder claims goes to the first of ``settings.LOCALE_PATHS`` (``branchserve/locale``). So
one run from ``branchserve/`` sends every string to its own catalogue, with source references
relative to ``branchserve/`` (``org/models.py:12``) whoever runs it. Ignoring the apps instead
would not work: ``--ignore`` patterns match a folder's name anywhere, so ignoring ``org`` would
also skip ``templates/org/``. When only some catalogues are named, the others are put back as
they were; a run that changes nothing but a catalogue's date leaves the file untouched.

Extraction needs GNU gettext (``xgettext``, ``msgmerge``). Compiling uses ``msgfmt --check``
when it is installed and polib otherwise (or with ``--polib``), so the .mo files can be rebuilt
on a machine without gettext.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LANGUAGE = "zh_Hans"
PACKAGE_DIR = Path(__file__).resolve().parent.parent  # branchserve/
PROJECT = "project"
# Never extracted: tests, migrations, vendored and collected static files.
IGNORE = ["tests", "migrations", "static", "node_modules"]


@dataclass(frozen=True)
class Catalogue:
    name: str  # an app's directory name, or "project"
    locale_dir: Path

    def po_files(self) -> list[Path]:
        return sorted(self.locale_dir.glob("*/LC_MESSAGES/*.po"))


def app_catalogues() -> list[Catalogue]:
    return [
        Catalogue(path.name, path / "locale")
        for path in sorted(PACKAGE_DIR.iterdir())
        if path.is_dir() and (path / "locale").is_dir() and (path / "__init__.py").exists()
    ]


def project_catalogue() -> Catalogue:
    return Catalogue(PROJECT, PACKAGE_DIR / "locale")


def all_po_files() -> list[Path]:
    """Every catalogue under ``branchserve/`` (what the translation test checks)."""
    return sorted(
        path
        for path in PACKAGE_DIR.rglob("locale/*/LC_MESSAGES/*.po")
        if not set(path.relative_to(PACKAGE_DIR).parts) & set(IGNORE)
    )


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def _without_date(text: str) -> str:
    return re.sub(r'^"POT-Creation-Date: .*"$', "", text, flags=re.MULTILINE)


def extract(selected: Sequence[Catalogue]) -> None:
    """Run makemessages once from ``branchserve/``; keep only the selected catalogues' changes."""
    from django.core.management import call_command

    for catalogue in selected:
        catalogue.locale_dir.mkdir(exist_ok=True)
    wanted = {catalogue.locale_dir for catalogue in selected}
    before = {path: path.read_text(encoding="utf-8") for path in all_po_files()}
    with working_directory(PACKAGE_DIR):
        call_command(
            "makemessages",
            locale=[LANGUAGE],
            ignore_patterns=list(IGNORE),
            no_obsolete=True,
            verbosity=0,
        )
    for path in all_po_files():
        old = before.get(path)
        chosen = any(locale_dir in path.parents for locale_dir in wanted)
        if old is None:
            if not chosen:
                path.unlink()
        elif not chosen or _without_date(path.read_text(encoding="utf-8")) == _without_date(old):
            path.write_text(old, encoding="utf-8")


def compile_po(po_path: Path, *, use_polib: bool = False) -> None:
    mo_path = po_path.with_suffix(".mo")
    msgfmt = shutil.which("msgfmt")
    if msgfmt and not use_polib:
        subprocess.run(
            [msgfmt, "--check-format", "--check-domain", "-o", str(mo_path), str(po_path)],
            check=True,
        )
        return
    import polib

    catalogue = polib.pofile(str(po_path))
    catalogue.save_as_mofile(str(mo_path))


def problems(po_path: Path) -> tuple[int, int]:
    """(untranslated, fuzzy) entries of a catalogue."""
    import polib

    catalogue = polib.pofile(str(po_path))
    live = [entry for entry in catalogue if not entry.obsolete]
    untranslated = sum(1 for entry in live if not entry.translated() and "fuzzy" not in entry.flags)
    fuzzy = sum(1 for entry in live if "fuzzy" in entry.flags)
    return untranslated, fuzzy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m branchserve.core.messages", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "targets", nargs="*", help=f"app directory names, or {PROJECT!r}; default: all"
    )
    parser.add_argument("--compile-only", action="store_true", help="only compile .po → .mo")
    parser.add_argument("--polib", action="store_true", help="compile with polib, not msgfmt")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "branchserve.settings")
    import django

    django.setup()

    every = [*app_catalogues(), project_catalogue()]
    if args.targets:
        known = {catalogue.name: catalogue for catalogue in every}
        selected = []
        for name in args.targets:
            if name in known:
                selected.append(known[name])
            elif (PACKAGE_DIR / name / "__init__.py").exists():
                # A new app opts in to its own catalogue by having a locale/ folder.
                selected.append(Catalogue(name, PACKAGE_DIR / name / "locale"))
            else:
                parser.error(f"no app directory branchserve/{name}")
    else:
        selected = every

    if not args.compile_only:
        if not shutil.which("xgettext") or not shutil.which("msgmerge"):
            print("makemessages needs GNU gettext (xgettext, msgmerge).", file=sys.stderr)
            return 1
        extract(selected)

    status = 0
    for catalogue in selected:
        for po_path in catalogue.po_files():
            compile_po(po_path, use_polib=args.polib)
            untranslated, fuzzy = problems(po_path)
            where = po_path.relative_to(PACKAGE_DIR.parent)
            if untranslated or fuzzy:
                status = 1
                print(f"{where}: {untranslated} untranslated, {fuzzy} fuzzy — fill in every msgstr")
            else:
                print(f"{where}: complete")
    return status


if __name__ == "__main__":
    sys.exit(main())
