"""Just enough of a browser to submit an HTML form the way a person would: read the page's
inputs with their current values, change some, post them (multipart, files included)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import httpx


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    file_inputs: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key == name]

    def set(self, name: str, *values: str) -> None:
        """Replace the values of ``name`` (typing in a box, ticking boxes, choosing options)."""
        self.fields = [(k, v) for k, v in self.fields if k != name] + [(name, v) for v in values]

    async def submit(self, http: httpx.AsyncClient, files: dict[str, tuple[str, bytes]] | None = None
                     ) -> httpx.Response:
        data: dict[str, list[str]] = {}
        for key, value in self.fields:
            data.setdefault(key, []).append(value)
        chosen = files or {}
        # A browser sends every file input, empty when no file was chosen.
        parts = [(name, (*chosen.get(name, ("", b"")), "application/octet-stream"))
                 for name in self.file_inputs]
        return await http.post(self.action, data=data, files=parts)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._textarea: tuple[str, list[str]] | None = None
        self._select: tuple[str, list[tuple[str, bool]]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(Form(action=a.get("action", "")))
        elif not self.forms or ("name" not in a and tag in ("input", "textarea", "select")):
            return
        elif tag == "input":
            kind = a.get("type", "text")
            if kind == "file":
                self.forms[-1].file_inputs.append(a["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.forms[-1].fields.append((a["name"], a.get("value") or "on"))
            elif kind != "submit":
                self.forms[-1].fields.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self._textarea = (a["name"], [])
        elif tag == "select":
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            self.forms[-1].fields.append((name, "".join(text)))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [value for value, selected in options if selected] or [options[0][0]]
            self.forms[-1].fields.append((name, chosen[0]))
            self._select = None


def forms(html: str) -> list[Form]:
    reader = _Reader()
    reader.feed(html)
    return reader.forms
