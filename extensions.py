"""Unbound extension objects, bound to the app in app.register_extensions."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from marshmallow import Schema, fields, validate
from sqlalchemy import MetaData, Select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase

from dbtypes import MAX_ID

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def found_or_added(query: Select, row):
    """The row `query` finds (its unique key), else `row` inserted in a savepoint. Two requests at
    once (a double click, a mail provider's one-click beside the person's own) may both find
    nothing: the second's insert meets the unique key and it takes the first's row instead of a 500."""
    found = db.session.scalar(query)
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            db.session.add(row)
        return row
    except IntegrityError:
        return db.session.scalar(query)


migrate = Migrate()
mail = Mail()
login = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields")


class ErrorSchema(Schema):
    """Every API error: {"error": {"code", "message", "fields"}}."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class RelaisApi(Api):
    """flask-smorest, documenting the contract's error body for every error response."""

    ERROR_SCHEMA = ErrorSchema


api = RelaisApi()


def Id(least: int = 1, **kwargs) -> fields.Integer:  # noqa: N802 (a field factory reads like a field class)
    """A row id in an API body or query (`least=0` where 0 says "none"): a number no id column holds
    is refused naming the field, before the database refuses it nameless (PostgreSQL) or crashes on
    it (SQLite)."""
    return fields.Integer(validate=validate.Range(min=least, max=MAX_ID), **kwargs)
