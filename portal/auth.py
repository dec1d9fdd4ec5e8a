"""Admin accounts and login for the standalone portal (Flask-Login, hashed passwords)."""

from __future__ import annotations

from urllib.parse import urlsplit

import click
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.cli import with_appcontext
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from portal import db, throttle

login_manager = LoginManager()
login_manager.login_view = "portal.login"
login_manager.login_message = "Please log in to open that page."
csrf = CSRFProtect()
bp = Blueprint("portal", __name__, template_folder="templates")


class Admin(UserMixin, db.Model):
    __tablename__ = "portal_admin"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of every session's id: raising it (logout, new password) ends every session at once.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", nullable=False)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        self.session_version = (self.session_version or 1) + 1

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"


_dummy_hash: list[str] = []


def _spend_a_hash_check(password: str) -> None:
    """An unknown username costs the same hash check as a known one: timing names no account."""
    if not _dummy_hash:
        _dummy_hash.append(generate_password_hash("not-an-admin-password"))
    check_password_hash(_dummy_hash[0], password)


@login_manager.user_loader
def load_admin(session_id: str):
    # Checked on every request: a session of an older version (before a logout, a password
    # change or reset) opens nothing.
    admin_id, _, version = session_id.partition(":")
    if not (admin_id.isdigit() and version.isdigit()):
        return None
    admin = db.session.get(Admin, int(admin_id))
    if admin is None or admin.session_version != int(version):
        return None
    return admin


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: an open redirect would hand the session to anyone.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("portal.home")


@bp.route("/login", methods=["GET", "POST"])
@throttle.login_limits
def login():
    form = LoginForm()
    if form.validate_on_submit():
        admin = db.session.scalar(select(Admin).where(Admin.username == form.username.data))
        if admin is None:
            _spend_a_hash_check(form.password.data)
        elif admin.check_password(form.password.data):
            target = _safe_next(request.args.get("next"))
            # A fresh session: nothing planted before login (a session id, a CSRF token) survives it.
            session.clear()
            g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # flask-wtf's cache
            login_user(admin)
            return redirect(target)
        flash("Unknown username or wrong password.", "error")
    return render_template("portal/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    # Every session of this admin ends, not only this browser's: a copied cookie is worthless.
    admin = db.session.get(Admin, current_user.id)
    admin.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("portal.login"))


@bp.before_request
def refuse_control_characters():
    from addon.untrusted import first_control

    if first_control([*request.form.values(), *request.args.values()]) is not None:
        flash("A field holds a control character (such as a NUL byte); remove it and try again.", "error")
        return render_template("portal/login.html", form=LoginForm(formdata=None)), 400
    return None


@bp.after_request
def security_headers(response):
    from addon.views import apply_security_headers

    return apply_security_headers(response)


@bp.get("/")
@login_required
def home():
    return redirect(url_for("netsuite.dashboard"))


def require_admin():
    """The authorization hook the add-on calls before each of its requests."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def create_admin(username: str, password: str) -> Admin:
    admin = db.session.scalar(select(Admin).where(Admin.username == username)) or Admin(username=username)
    admin.set_password(password)
    db.session.add(admin)
    db.session.commit()
    return admin


@click.command("create-admin")
@click.argument("username")
@click.password_option()
@with_appcontext
def create_admin_command(username: str, password: str):
    """Create an admin (or reset the password of an existing one)."""
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    create_admin(username, password)
    click.echo(f"admin {username!r} saved")


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    throttle.init_app(app)
    _spend_a_hash_check("")  # the dummy hash exists before the first unknown username arrives
    csrf.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(create_admin_command)
