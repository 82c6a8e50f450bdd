"""The queue's tables, as few and as plain as the four operations need."""

from django.db import models


class Outlet(models.Model):
    code = models.CharField(max_length=16, unique=True)


class Counter(models.Model):
    code = models.CharField(max_length=16, unique=True)
    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE)


class Series(models.Model):
    """A business type's ticket numbers at an outlet, restarting every day."""

    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE)
    business_type = models.CharField(max_length=8)
    day = models.DateField()
    last_number = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["outlet", "business_type", "day"], name="one_series")
        ]


class Ticket(models.Model):
    WAITING, CALLED, SERVING, DONE = "waiting", "called", "serving", "done"

    public_id = models.CharField(max_length=32, unique=True)
    idempotency_key = models.CharField(max_length=80, unique=True, null=True)
    outlet = models.ForeignKey(Outlet, on_delete=models.CASCADE)
    business_type = models.CharField(max_length=8)
    number = models.CharField(max_length=8)
    status = models.CharField(max_length=8, default=WAITING)
    counter = models.ForeignKey(Counter, null=True, on_delete=models.SET_NULL)
    issued_at = models.DateTimeField()
    called_at = models.DateTimeField(null=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        indexes = [models.Index(fields=["outlet", "status", "issued_at"])]


class Event(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8)
    at = models.DateTimeField()
    counter = models.ForeignKey(Counter, null=True, on_delete=models.SET_NULL)
