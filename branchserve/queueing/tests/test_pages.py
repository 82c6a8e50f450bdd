"""The queue's pages render for whom they should, in Chinese by default, with what their
scripts need; the device pages hold no queue data."""

from __future__ import annotations

from branchserve.queueing.tests.base import QueueTestCase


class DevicePagesTest(QueueTestCase):
    def test_kiosk_and_display_are_served_to_anyone_without_queue_data(self):
        self.issue("A")
        for url in ("/queue/kiosk/", "/queue/display/"):
            with self.subTest(url):
                response = self.client.get(url)
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, 'lang="zh-hans"')
                self.assertContains(response, 'href="/devices/pair/"')  # shown without a token
                self.assertNotContains(response, "A001")
                self.assertNotContains(response, "城南支行营业室")

    def test_the_display_announces_in_chinese(self):
        config = self.client.get("/queue/display/").context["config"]
        self.assertEqual(config["text"]["announce"], "请 %(number)s 号到 %(counter)s 号窗口办理")
        self.assertEqual(config["storageKey"], "branchserve.device.token")

    def test_the_kiosk_prints_on_58_or_80_mm_paper(self):
        self.assertContains(self.client.get("/queue/kiosk/"), "paper-80")
        response = self.client.get("/queue/kiosk/?paper=58&autoprint=1")
        self.assertContains(response, "paper-58")
        self.assertTrue(response.context["config"]["autoPrint"])


class StaffPagesTest(QueueTestCase):
    def test_the_counter_terminal_needs_a_login(self):
        response = self.client.get("/queue/counter/")
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/login/"))
        response = self.client_for(self.bob).get("/queue/counter/")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "叫号")
        self.assertContains(response, "重呼")
        labels = [choice["label"] for choice in response.context["pause_reasons"]]
        self.assertEqual(len(labels), 6)

    def test_the_lobby_tablet_follows_the_managers_outlet(self):
        response = self.client_for(self.lily).get("/queue/lobby/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["config"]["outlet"], "O11")
        self.assertContains(response, "分流")
        # A sub-branch president sees the outlet but does not direct its lobby.
        self.assertEqual(self.client_for(self.dora).get("/queue/lobby/").status_code, 403)
        self.assertEqual(self.client_for(self.nobody).get("/queue/lobby/").status_code, 403)
        self.assertEqual(
            self.client_for(self.lily).get("/queue/lobby/?outlet=NOPE").status_code, 404
        )
