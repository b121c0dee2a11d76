"""QA pass 8, finding 8: an address the dashboard does not have is a friendly "Page not found" with a
link home, not NiceGUI's "HTTPException: 404: Not Found"; the API's 404 stays JSON."""

from __future__ import annotations

import nicegui
import pytest
from nicegui.testing import User
from ui_helpers import sign_in

pytestmark = pytest.mark.nicegui_main_file('main.py')


async def test_an_unknown_address_is_a_friendly_page_with_a_way_home(user: User) -> None:
    await sign_in(user, 'support')

    answer = await user.http_client.get('/no-such-page')

    assert answer.status_code == 404
    assert 'Page not found' in answer.text and 'There is no page at /no-such-page.' in answer.text
    assert 'Go to the Overview' in answer.text
    assert 'HTTPException' not in answer.text and 'Not Found' not in answer.text


async def test_the_api_and_static_files_keep_their_plain_404(user: User) -> None:
    api = await user.http_client.get('/api/v1/no-such-route')
    static = await user.http_client.get(f'/_nicegui/{nicegui.__version__}/components/no-such-component')

    assert api.status_code == 404 and api.json() == {'detail': 'Not Found'}
    assert static.status_code == 404 and static.json() == {'detail': 'component "no-such-component" not found'}
