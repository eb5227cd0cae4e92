from app.auth.models import Role
from app.registrations.models import Status
from tests.support import login


def test_pages_render(client, db, make_registration, make_user):
    registration, correspondent = make_registration(Status.submitted, border=True)
    login(client, correspondent.email)
    for path in ["/my/registrations", f"/registrations/{registration.id}", "/outlet", "/outlet/crew",
                 "/outlet/crew/new", "/registrations/new"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[-3000:])
    draft, _ = make_registration(Status.draft, correspondent=correspondent)
    response = client.get(f"/registrations/{draft.id}/edit")
    assert response.status_code == 200, response.get_data(as_text=True)[-3000:]
    officer = make_user(Role.officer)
    staff = client.application.test_client()
    login(staff, officer.email)
    for path in ["/staff/registrations", f"/registrations/{registration.id}", "/staff/registrations?q=Outlet&border=y&due=overdue&status=open&nationality=NO&sort=start"]:
        response = staff.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[-3000:])
