"""Every catalogue is complete and compiled; the UI is Chinese by default, English on request."""

from __future__ import annotations

import polib
from django.test import SimpleTestCase, TestCase

from branchserve.core.messages import PACKAGE_DIR, all_po_files


def translations(catalogue) -> dict[tuple[str, str], object]:
    """(context, msgid) → msgstr (or the plural forms) of the live, translated entries."""
    result = {}
    for entry in catalogue:
        if entry.obsolete or not entry.msgid or "fuzzy" in entry.flags:
            continue
        text = entry.msgstr_plural if entry.msgid_plural else entry.msgstr
        if isinstance(text, dict):
            text = tuple(text[k] for k in sorted(text))
        if text:
            result[(entry.msgctxt or "", entry.msgid)] = text
    return result


class CatalogueTests(SimpleTestCase):
    def test_catalogues_exist(self):
        paths = all_po_files()
        self.assertIn(PACKAGE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po", paths)

    def test_every_entry_is_translated(self):
        for path in all_po_files():
            with self.subTest(catalogue=str(path.relative_to(PACKAGE_DIR))):
                catalogue = polib.pofile(str(path))
                live = [entry for entry in catalogue if not entry.obsolete]
                fuzzy = [entry.msgid for entry in live if "fuzzy" in entry.flags]
                empty = [
                    entry.msgid
                    for entry in live
                    if not entry.msgstr
                    and not (entry.msgstr_plural and all(entry.msgstr_plural.values()))
                ]
                self.assertEqual(fuzzy, [], "fuzzy entries")
                self.assertEqual(empty, [], "entries without a translation")

    def test_compiled_catalogues_are_up_to_date(self):
        for path in all_po_files():
            with self.subTest(catalogue=str(path.relative_to(PACKAGE_DIR))):
                mo_path = path.with_suffix(".mo")
                self.assertTrue(mo_path.exists(), "not compiled: run make messages")
                expected = translations(polib.pofile(str(path)))
                compiled = translations(polib.mofile(str(mo_path)))
                stale = sorted(
                    msgid
                    for msgid in expected.keys() | compiled.keys()
                    if expected.get(msgid) != compiled.get(msgid)
                )
                self.assertEqual(stale, [], "the .mo is stale: run make messages")


class LanguageTests(TestCase):
    def test_login_page_is_chinese_by_default(self):
        response = self.client.get("/login/", headers={"accept-language": "en-GB,en;q=0.9"})
        self.assertContains(response, '<html lang="zh-hans">')
        self.assertContains(response, "员工号")
        self.assertContains(response, "登录")

    def test_english_after_the_switch(self):
        response = self.client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
        self.assertEqual(response.status_code, 302)
        response = self.client.get("/login/")
        self.assertContains(response, '<html lang="en">')
        self.assertContains(response, "Employee number")
        self.assertContains(response, "Log in")
        self.assertNotContains(response, "员工号")
