"""The staff's own worklist ("Việc của tôi"): where officers and leaders land after logging in."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.auth.models import Role
from app.auth.permissions import roles_required
from app.worklist import bp, service


@bp.route("/staff/my-work")
@roles_required(Role.officer, Role.leader)
def mine():
    return render_template("worklist/mine.html", worklist=service.worklist_for(current_user))
