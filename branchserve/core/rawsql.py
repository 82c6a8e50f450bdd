"""Plain SQL for the hot paths: the ORM's own statements, without its per-call query building.

The queue's operations run a handful of statements each, thousands of times a minute; composing
them through the ORM costs more than the database spends answering them. These helpers build
each statement's text once per model (and database vendor) and turn rows into model instances
with the same conversions the ORM applies (``from_db``, the backend's and the fields'
converters), so what is written and read is exactly what the ORM would write and read.

On PostgreSQL they run through ``cursor()``: a cursor with server-side parameters on Django's
own connection (so in the same transaction, and seen by ``execute_wrapper``s and query
logging), whose statements psycopg prepares once they repeat (``PREPARE_THRESHOLD``), so that
PostgreSQL parses and plans each of them once per connection (the connection asks for generic
plans, ``core/env.py``: with a history to weigh, PostgreSQL would otherwise plan some of them
again at every execution). Django's default cursors inline
the parameters into the text, which suits the ORM's varied queries (server-side parameters
break some of them: a parameter repeated in ``SELECT`` and ``GROUP BY``) but makes PostgreSQL
plan every statement anew; the hot path's statements are few and fixed. Their cursor also
reads ``timestamptz`` columns with psycopg's own (compiled) loader instead of Django's Python
subclass of it: the values are the same (Django sets the session's time zone to its own, and
psycopg returns that zone), at a fraction of the cost.

Each helper looks Django's connection up once (``database()``): every attribute read through
``django.db.connection`` is a lookup in a context-local mapping. ``prep`` is a field's
``get_db_prep_save`` without its layers for the plain values the hot path writes, and ``new``
a model's ``__init__`` without its descriptors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field, Model, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute

M = TypeVar("M", bound=Model)

# Fields whose descriptors keep the value as stored in the instance's ``__dict__`` (``_instance``).
_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)

# A statement executed this many times on a connection is prepared (psycopg's own default).
PREPARE_THRESHOLD = 5


def cursor() -> AbstractContextManager[CursorWrapper]:
    """``with cursor() as c:`` a cursor for hand-written statements (the module docstring).

    On PostgreSQL every call on a connection hands out the same psycopg cursor (in a fresh
    ``CursorWrapper``, as Django's ``connection.cursor()`` would wrap it) and leaves it open:
    set up once per connection, not per statement. So fetch a statement's rows inside its
    ``with`` block and do not run another hand-written statement before that.
    """
    connection = database()
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    hot = getattr(connection, "_branchserve_hot", None)
    if hot is None or hot.connection is not raw or hot.closed:
        with connection.wrap_database_errors:
            hot = _hot_cursor(connection, raw)
        connection._branchserve_hot = hot  # type: ignore[attr-defined]
    # Entered, the wrapper; left, nothing happens: the cursor stays open for the next one.
    return nullcontext(connection._prepare_cursor(hot))  # type: ignore[attr-defined]


def _hot_cursor(connection: BaseDatabaseWrapper, raw: Any) -> Any:
    import psycopg
    from psycopg.types.datetime import TimestamptzLoader

    raw.prepare_threshold = PREPARE_THRESHOLD  # only server-side cursors prepare
    hot = psycopg.Cursor(raw)
    if raw.info.parameter_status("TimeZone") == connection.timezone_name:
        hot.adapters.register_loader("timestamptz", TimestamptzLoader)
    return hot


def database() -> BaseDatabaseWrapper:
    """Django's default connection, looked up once (the module docstring)."""
    return connections[DEFAULT_DB_ALIAS]


# What ``get_db_prep_save`` does with a plain value (None stays None): hands back a ``str``
# or ``bool`` as is; passes an ``int`` through ``adapt_integerfield_value`` (on PostgreSQL it
# wraps it in the column's integer type, for server-side parameters), or, for an automatic
# primary key, through ``validate_autopk_value``; adapts an aware ``datetime``.
_KINDS: dict[type[Any], tuple[type[Any], str]] = {
    models.CharField: (str, "same"),
    models.TextField: (str, "same"),
    models.BooleanField: (bool, "same"),
    models.IntegerField: (int, "int"),
    models.BigIntegerField: (int, "int"),
    models.SmallIntegerField: (int, "int"),
    models.PositiveIntegerField: (int, "int"),
    models.PositiveSmallIntegerField: (int, "int"),
    models.AutoField: (int, "pk"),
    models.BigAutoField: (int, "pk"),
    models.DateTimeField: (dt.datetime, "datetime"),
}


# ``_prep_kind`` by ``id(field)``: a field's own ``__hash__`` is Python code (model fields
# live as long as the process).
_PREP_KINDS: dict[int, tuple[type[Any] | None, str, str]] = {}


def _prep_kind(field: Field[Any, Any]) -> tuple[type[Any] | None, str, str]:
    """For ``prep``: the type of value it may take a short cut for (None: none), which one,
    and the field's internal type."""
    found = _PREP_KINDS.get(id(field))
    if found is None:
        if isinstance(field, models.ForeignKey) and not field.one_to_one:
            found = _prep_kind(field.target_field)
        else:
            kind, how = _KINDS.get(type(field), (None, ""))
            found = (kind, how, field.get_internal_type())
        _PREP_KINDS[id(field)] = found
    return found


def prep(field: Field[Any, Any], value: Any, connection: BaseDatabaseWrapper) -> Any:
    """``field.get_db_prep_save(value, connection)``: the same value, without Django's layers
    of preparation, for the plain values the hot path writes (see ``_KINDS``); any other goes
    through ``get_db_prep_save`` itself. A foreign key may also be given its related object."""
    if isinstance(value, Model) and field.is_relation:
        value = value.pk
    kind, how, internal_type = _prep_kind(field)
    if kind is None:
        return field.get_db_prep_save(value, connection)
    if value is None:
        return None
    if type(value) is not kind:
        return field.get_db_prep_save(value, connection)
    if how == "same":
        return value
    if how == "int":
        return connection.ops.adapt_integerfield_value(value, internal_type)
    if how == "pk":
        return connection.ops.validate_autopk_value(value)
    if value.tzinfo is None:  # naive: Django warns and makes it aware
        return field.get_db_prep_save(value, connection)
    return connection.ops.adapt_datetimefield_value(value)


def new(model: type[M], **values: Any) -> M:
    """``model(**values)`` (fields by name, ``pk`` for the primary key, related objects for
    foreign keys) for a model whose instances ``_reader`` lets be built without ``__init__``:
    the same attribute values, related objects cached as ``__init__`` caches them, and each
    field not given its default. Other models go through ``__init__``."""
    meta: Any = model._meta
    if not _reader(model, database().vendor, "")[3] or not _plain_relations(model):
        return model(**values)
    if "pk" in values:
        values[meta.pk.name] = values.pop("pk")
    obj = model.__new__(model)
    state = ModelState()
    obj.__dict__["_state"] = state
    for field in meta.concrete_fields:
        if field.name in values:
            value = values.pop(field.name)
            if field.is_relation:
                obj.__dict__[field.attname] = None if value is None else value.pk
                state.fields_cache[field.name] = value
                continue
        elif field.attname in values:
            value = values.pop(field.attname)
        else:
            value = field.get_default()
        obj.__dict__[field.attname] = value
    if values:
        raise TypeError(f"{model.__name__} has no field named {', '.join(values)}")
    return obj


def relate(obj: Model, **related: Any) -> None:
    """``obj.<name> = value`` for foreign keys of ``obj`` (related objects or None), as the
    descriptor sets them (the id and the cached object), without its checks."""
    meta: Any = type(obj)._meta
    if not _plain_relations(type(obj)):
        for name, value in related.items():
            setattr(obj, name, value)
        return
    cache = obj._state.fields_cache
    for name, value in related.items():
        obj.__dict__[meta.get_field(name).attname] = None if value is None else value.pk
        cache[name] = value


@cache
def _plain_relations(model: type[Model]) -> bool:
    """Whether every relation of ``model`` is a plain foreign key (not one-to-one, which also
    sets the other side's cache)."""
    meta: Any = model._meta
    return all(
        isinstance(f, models.ForeignKey) and not f.one_to_one
        for f in meta.concrete_fields
        if f.is_relation
    )


def insert_statement(model: type[Model]) -> tuple[str, tuple[Field[Any, Any], ...]]:
    """``INSERT INTO table (columns) VALUES (%s, …) RETURNING pk`` for ``model``, and its
    fields in the order of the columns (every concrete field but the primary key)."""
    return _insert(model, database().vendor)


@cache
def _insert(model: type[Model], vendor: str) -> tuple[str, tuple[Field[Any, Any], ...]]:
    meta: Any = model._meta
    quote = database().ops.quote_name
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert_row(obj: Model) -> None:
    """``INSERT`` one new model instance (no signals, as ``bulk_create``); sets its pk."""
    connection = database()
    sql, fields = _insert(type(obj), connection.vendor)
    values = [prep(f, f.pre_save(obj, True), connection) for f in fields]
    with cursor() as hot:
        hot.execute(sql, values)
        row = hot.fetchone()
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias


def update_row(model: type[Model], pk: Any, values: dict[str, Any]) -> None:
    """``UPDATE`` the columns of ``values`` (field names; related objects or None) of one row."""
    connection = database()
    meta: Any = model._meta
    quote = connection.ops.quote_name
    fields = [meta.get_field(name) for name in values]
    params = []
    for field, value in zip(fields, values.values(), strict=True):
        params.append(prep(field, value, connection))
    sets = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    with cursor() as hot:
        hot.execute(
            f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = %s",
            [*params, pk],
        )


@cache
def _reader(
    model: type[Model], vendor: str, alias: str
) -> tuple[str, tuple[str, ...], tuple[Any, ...], bool]:
    """The column list of ``model`` (for ``SELECT`` and ``RETURNING``; each prefixed with
    ``alias.`` if given), its attnames, per column the ``(expression, converters)`` the ORM
    would apply (None: none), and whether its instances may be built without ``__init__``
    (``_instance``)."""
    connection = database()
    meta: Any = model._meta
    quote = connection.ops.quote_name
    fields = meta.concrete_fields
    converters = []
    for field in fields:
        col = field.get_col(meta.db_table)
        found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        converters.append((col, tuple(found)) if found else None)
    prefix = f"{alias}." if alias else ""
    columns = ", ".join(prefix + quote(f.column) for f in fields)
    plain = (
        model.__init__ is Model.__init__
        and getattr(model.from_db, "__func__", None) is Model.from_db.__func__  # type: ignore[attr-defined]
        and not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
        and all(type(getattr(model, f.attname)) in _PLAIN_DESCRIPTORS for f in fields)
    )
    return columns, tuple(f.attname for f in fields), tuple(converters), plain


def columns(model: type[Model], alias: str = "") -> str:
    """Every column of ``model``, quoted, in the order ``fetch_models`` reads them."""
    return _reader(model, database().vendor, alias)[0]


def _build(model: type[M], values: Sequence[Any], connection: BaseDatabaseWrapper) -> M:
    _columns, attnames, converters, plain = _reader(model, connection.vendor, "")
    values = list(values)
    for i, spec in enumerate(converters):
        if spec is not None:
            col, functions = spec
            for function in functions:
                values[i] = function(values[i], col, connection)
    if not plain:
        return model.from_db(connection.alias, attnames, values)
    return _instance(model, connection.alias, attnames, values)


def _instance(model: type[M], alias: str, attnames: tuple[str, ...], values: list[Any]) -> M:
    """What ``model.from_db`` returns for a full row, without ``Model.__init__``: that sets
    each field through its descriptor, the largest cost of reading a row (for a model with
    the default ``__init__`` and ``from_db`` and no ``pre_init``/``post_init`` receivers, which
    ``_reader`` checks). Field values live in the instance's ``__dict__`` under their
    attnames, which is where ``__init__`` puts them."""
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    obj.__dict__["_state"] = state
    obj.__dict__.update(zip(attnames, values, strict=True))
    return obj


def _rows(sql: str, params: Sequence[Any]) -> list[Any]:
    with cursor() as hot:
        hot.execute(sql, params)
        return list(hot.fetchall())


def fetch_models(model: type[M], sql: str, params: Sequence[Any]) -> list[M]:
    """Run ``sql`` (selecting or returning ``columns(model)``) and build its instances."""
    connection = database()
    return [_build(model, row, connection) for row in _rows(sql, params)]


def fetch_joined(
    sql: str, params: Sequence[Any], *models: type[Model], extra: int = 0
) -> list[list[Any]]:
    """Run ``sql``, which selects ``columns(model, alias)`` of each of ``models`` in turn (as
    a ``select_related`` would), then ``extra`` plain values, and build each row's instances
    (followed by the plain values); a model whose primary key is NULL (a ``LEFT JOIN`` that
    found nothing) gives None."""
    connection = database()
    found = []
    for row in _rows(sql, params):
        instances, start = [], 0
        for model in models:
            width = len(model._meta.concrete_fields)
            values = row[start : start + width]
            pk_index = model._meta.concrete_fields.index(model._meta.pk)
            built = None if values[pk_index] is None else _build(model, values, connection)
            instances.append(built)
            start += width
        instances.extend(row[start : start + extra])
        found.append(instances)
    return found
