"""A hidden HTML form that posts to a path of this site.

How a page hands the browser over to an HTTP request that sets or deletes cookies (the end of a
sign-in, the sign-out) without putting anything in the URL: the fields travel in the POST body, the
answer is a redirect the browser follows. The fields are set on the element too (tests read them
there, as a browser would submit them)."""

from __future__ import annotations

import json

from nicegui import ui


class post_form(ui.element):  # noqa: N801 (reads like a built-in element)

    def __init__(self, action: str, *fields: str) -> None:
        """An empty form for `action` with a hidden input per name in `fields`."""
        super().__init__('form')
        self.props['method'] = 'post'
        self.props['action'] = action
        self.classes('hidden')
        self.inputs: dict[str, ui.element] = {}
        with self:
            for name in fields:
                self.inputs[name] = ui.element('input').props(f'type=hidden name={name}')

    def submit(self, **values: str) -> None:
        """Fill the fields and send the form: the browser leaves this page for the answer."""
        for name, value in values.items():
            self.inputs[name].props['value'] = value
        # The values are set in the script as well: the element update may reach the page after it.
        script = f'const form = getHtmlElement({self.id});\n'
        script += ''.join(f'form.elements[{json.dumps(name)}].value = {json.dumps(value)};\n'
                          for name, value in values.items())
        ui.run_javascript(script + 'form.submit();')
