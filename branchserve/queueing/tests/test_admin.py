"""Configuration in the admin: counters' strategies validated by the strategy module, demo
customers stored masked, tickets read-only."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from branchserve.queueing.models import CounterQueueConfig, DemoCustomer
from branchserve.queueing.tests.base import QueueTestCase


class CounterConfigValidationTest(QueueTestCase):
    def test_invalid_configurations_are_refused(self):
        bad = [
            {"queues": []},
            {"queues": ["A", "A"]},
            {"queues": ["A"], "strategy": "ageing"},  # no cap
            {"queues": ["A"], "strategy": "lottery"},
            {"queues": ["A", "B"], "weights": [1]},
            {"queues": ["A"], "colour": "red"},
            {"queues": ["A", "Z"]},  # no business type Z
        ]
        for config in bad:
            with self.subTest(config=config), self.assertRaises(ValidationError):
                CounterQueueConfig(counter=self.c11_2, config=config).full_clean()

    def test_a_valid_configuration(self):
        config = {"queues": ["B", "A"], "strategy": "weighted_round_robin", "weights": [2, 1]}
        CounterQueueConfig(counter=self.c11_2, config=config).full_clean()


class AdminPagesTest(QueueTestCase):
    def setUp(self):
        self.root = User.objects.create_superuser("root", password="x-Branch-2026")
        self.client.force_login(self.root)

    def test_demo_customer_is_stored_masked(self):
        response = self.client.post(
            "/admin/queueing/democustomer/add/",
            {"number": "13812345678", "tier": 2, "name": "张*"},
        )
        self.assertEqual(response.status_code, 302, response.content[:2000])
        customer = DemoCustomer.objects.get()
        self.assertEqual(customer.masked, "138****5678")
        self.assertNotIn("13812345678", str(DemoCustomer.objects.values().get()))

    def test_pages_open_and_tickets_are_read_only(self):
        ticket = self.issue("A")
        for url in (
            "/admin/queueing/businesstype/",
            "/admin/queueing/counterqueueconfig/",
            "/admin/queueing/queuesettings/add/",
            "/admin/queueing/ticket/",
            f"/admin/queueing/ticket/{ticket.pk}/change/",
            "/admin/queueing/countersession/",
        ):
            with self.subTest(url):
                self.assertEqual(self.client.get(url).status_code, 200)
        self.assertEqual(self.client.get("/admin/queueing/ticket/add/").status_code, 403)
