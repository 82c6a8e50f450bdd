"""With Redis, events go out through channels_redis' pub/sub layer in one step (layer.py)."""

from __future__ import annotations

import asyncio
from unittest import skipUnless

import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import SimpleTestCase

from branchserve.realtime.layer import (
    EVENT_MESSAGE,
    RedisSequence,
    deliver,
    group_name,
    sequence,
)


@skipUnless(
    settings.REDIS_URL and "pubsub" in settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "needs Redis (REDIS_URL) and the pub/sub channel layer",
)
class RedisDeliveryTest(SimpleTestCase):
    def test_a_group_member_receives_each_event_numbered_in_order(self):
        outlet = "T-RL/1"  # a code with a character a group name may not hold
        layer = get_channel_layer()
        assert layer is not None
        before = sequence().current(outlet)

        async def scenario() -> tuple[list[dict], list[dict]]:
            channel = await layer.new_channel()
            await layer.group_add(group_name(outlet), channel)
            try:
                sent = [
                    await sync_to_async(deliver)(outlet, {"type": "ticket.called", "n": n})
                    for n in range(3)
                ]
                received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in sent]
            finally:
                await layer.group_discard(group_name(outlet), channel)
            return sent, received

        sent, received = async_to_sync(scenario)()
        self.assertEqual([event["seq"] for event in sent], [before + 1, before + 2, before + 3])
        self.assertEqual(received, [{"type": EVENT_MESSAGE, "event": event} for event in sent])
        self.assertEqual(sent[0], {"type": "ticket.called", "n": 0, "seq": before + 1})
        self.assertEqual(sequence().current(outlet), before + 3)

    def deliver_one(self, outlet: str) -> tuple[dict, dict]:
        layer = get_channel_layer()
        assert layer is not None

        async def scenario() -> tuple[dict, dict]:
            channel = await layer.new_channel()
            await layer.group_add(group_name(outlet), channel)
            try:
                sent = await sync_to_async(deliver)(outlet, {"type": "ticket.finished"})
                received = await asyncio.wait_for(layer.receive(channel), 5)
            finally:
                await layer.group_discard(group_name(outlet), channel)
            return sent, received

        return async_to_sync(scenario)()

    def test_events_go_out_after_redis_forgets_the_script(self):
        outlet = "T-RL-2"
        self.deliver_one(outlet)
        before = sequence().current(outlet)
        redis.Redis.from_url(settings.REDIS_URL).script_flush()  # as a restarted Redis
        sent, received = self.deliver_one(outlet)
        self.assertEqual(sent["seq"], before + 1)
        self.assertEqual(received["event"], sent)

    def test_events_go_out_after_redis_closes_the_connection(self):
        outlet = "T-RL-3"
        self.deliver_one(outlet)
        before = sequence().current(outlet)
        numbers = sequence()
        assert isinstance(numbers, RedisSequence)
        own_id = numbers._direct.command("CLIENT", "ID")
        redis.Redis.from_url(settings.REDIS_URL).client_kill_filter(_id=own_id)
        sent, received = self.deliver_one(outlet)
        self.assertEqual(sent["seq"], before + 1)  # numbered once: sent again, not twice
        self.assertEqual(received["event"], sent)
        self.assertNotEqual(numbers._direct.command("CLIENT", "ID"), own_id)  # a new connection
