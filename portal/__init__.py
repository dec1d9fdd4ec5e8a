"""The standalone host portal's own pieces: database, migrations, admin login."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
migrate = Migrate(directory=str(__import__("pathlib").Path(__file__).with_name("migrations")))

from portal import auth  # noqa: E402

__all__ = ["auth", "db", "migrate"]
