"""A pairing code used twice at the same moment pairs once."""

import threading

from django.db import OperationalError, connection
from django.test import TransactionTestCase

from branchserve.core.errors import ActionError
from branchserve.core.testing import make_unit
from branchserve.devices.actions import authenticate_token, do_create_device, do_pair_device
from branchserve.devices.choices import DeviceKind
from branchserve.devices.models import Device
from branchserve.org.choices import UnitKind


class ConcurrentPairingTest(TransactionTestCase):
    def test_same_code_twice_at_once_pairs_once(self):
        province = make_unit("PRV", "示范省分行", UnitKind.PROVINCE)
        sub_branch = make_unit("SB1", "城南支行", UnitKind.SUB_BRANCH, province)
        outlet = make_unit("O11", "城南支行营业室", UnitKind.OUTLET, sub_branch)
        device, code = do_create_device(
            kind=DeviceKind.KIOSK, outlet=outlet, counter=None, name="取号机", by=None
        )
        attempts = 4
        barrier = threading.Barrier(attempts)
        tokens: list[str] = []
        refused: list[str] = []
        errors: list[BaseException] = []

        def attempt():
            try:
                barrier.wait(timeout=10)
                tokens.append(do_pair_device(code)[1])
            except ActionError as error:
                refused.append(error.code)
            except OperationalError as error:  # SQLite: "database is locked", nothing written
                refused.append(f"locked: {error}")
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=attempt) for _ in range(attempts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        self.assertEqual(errors, [])
        self.assertEqual(len(tokens), 1, refused)
        self.assertEqual(len(refused), attempts - 1)
        if connection.vendor == "sqlite":
            # The in-memory test database refuses a second writer instead of waiting.
            allowed = ("pairing_code_used", "locked")
        else:
            # PostgreSQL: the others wait for the row lock, then find the code used.
            allowed = ("pairing_code_used",)
        self.assertTrue(all(r.startswith(allowed) for r in refused), refused)
        device = Device.objects.get(pk=device.pk)
        self.assertEqual(authenticate_token(tokens[0]), device)
