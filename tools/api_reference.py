"""Writes the API reference (docs/api/) from the contracts' descriptor set with source info
(gen/python/cms/descriptors.binpb, written by `make proto`): one page per proto package with its services (each
RPC's comment, request and response, who may call it) and its messages and enums with their comments.

    .venv/bin/python tools/api_reference.py OUT_DIR [DESCRIPTOR_SET]   (or: make descriptors; `make lint` checks it)
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from google.protobuf import descriptor_pb2

from cms.common.v1 import access_policy_pb2 as ap
from cms_platform import access
from cms_platform.reflection import descriptor_set

F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    v: k.removeprefix("TYPE_").lower()
    for k, v in F.Type.items()
    if k not in ("TYPE_MESSAGE", "TYPE_ENUM", "TYPE_GROUP")
}
# Source-info paths: FileDescriptorProto.message_type = 4, enum_type = 5, service = 6; DescriptorProto.field = 2,
# nested_type = 3, enum_type = 4; EnumDescriptorProto.value = 2; ServiceDescriptorProto.method = 2.
MESSAGE, ENUM, SERVICE, FIELD, NESTED, NESTED_ENUM, VALUE, METHOD = 4, 5, 6, 2, 3, 4, 2, 2


def _comment(text: str) -> str:
    return " ".join(line.strip() for line in text.strip().splitlines())


def _block(text: str) -> str:
    """A comment kept as written (its lists), less the space after `//`."""
    return "\n".join(line.removeprefix(" ") for line in text.strip("\n").splitlines()).strip()


def _cell(text: str) -> str:
    return _comment(text).replace("|", "\\|")


def _anchor(short: str, enum: bool) -> str:
    """The heading's anchor as GitHub makes it: "### `Outer.Inner` (enum)" -> "outerinner-enum"."""
    return short.lower().replace(".", "") + ("-enum" if enum else "")


class _Page:
    def __init__(
        self, package: str, maps: dict[str, tuple], where: dict[str, str], enums: set[str]
    ):
        self.package, self._maps, self._where, self._enums = package, maps, where, enums
        self.services: list[str] = []

    def type_ref(self, f: descriptor_pb2.FieldDescriptorProto) -> str:
        """The field's type, linked to its section when it is one of ours."""
        if f.type in _SCALARS:
            return f"`{_SCALARS[f.type]}`"
        name = f.type_name.lstrip(".")
        if name in self._maps:
            key, value = self._maps[name]
            return f"map<{self.type_ref(key)}, {self.type_ref(value)}>"
        return self.link(name)

    def link(self, name: str) -> str:
        """A type by full name, linked to its section when it is one of ours."""
        package = self._where.get(name)
        if package is None:
            return f"`{name}`"
        page = "" if package == self.package else f"{package}.md"
        short = name.removeprefix(package + ".")
        anchor = _anchor(short, name in self._enums)
        return f"[`{name.removeprefix(self.package + '.')}`]({page}#{anchor})"


def _index(
    fds: descriptor_pb2.FileDescriptorSet,
) -> tuple[dict[str, tuple], dict[str, str], set[str]]:
    """Map entry messages by full name (key field, value field), the package of each of our types, the enums."""
    maps: dict[str, tuple] = {}
    where: dict[str, str] = {}
    enum_names: set[str] = set()

    def walk(package: str, prefix: str, messages: Iterable, enums: Iterable) -> None:
        for e in enums:
            where[f"{prefix}.{e.name}"] = package
            enum_names.add(f"{prefix}.{e.name}")
        for m in messages:
            name = f"{prefix}.{m.name}"
            if m.options.map_entry:
                maps[name] = (m.field[0], m.field[1])
            else:
                where[name] = package
            walk(package, name, m.nested_type, m.enum_type)

    for f in fds.file:
        if f.name.startswith("cms/"):
            walk(f.package, f.package, f.message_type, f.enum_type)
        else:
            walk("", f.package, f.message_type, [])
    return maps, {k: v for k, v in where.items() if v}, enum_names


def _callers(method: descriptor_pb2.MethodDescriptorProto) -> str:
    if not method.options.HasExtension(ap.access):
        return "no policy"
    policy = access.Policy.of(method.options.Extensions[ap.access])
    parts = []
    if policy.staff_roles:
        parts.append("staff: " + ", ".join(sorted(policy.staff_roles)))
    if policy.clients:
        parts.append("clients (their own records)")
    if policy.services:
        parts.append("services: " + ", ".join(sorted(policy.services)))
    return "; ".join(parts) or "nobody"


def _render_package(page: _Page, files: list[descriptor_pb2.FileDescriptorProto]) -> str:
    services: list[str] = []
    types: list[str] = []
    for f in files:
        comments = {tuple(loc.path): loc.leading_comments for loc in f.source_code_info.location}
        for si, s in enumerate(f.service):
            page.services.append(f"{page.package}.{s.name}")
            services += [f"## Service `{s.name}`", "", _block(comments.get((SERVICE, si), "")), ""]
            for mi, m in enumerate(s.method):
                req = ("stream " if m.client_streaming else "") + page.link(m.input_type[1:])
                resp = ("stream " if m.server_streaming else "") + page.link(m.output_type[1:])
                services += [
                    f"### `{s.name}.{m.name}`",
                    "",
                    f"rpc `{m.name}`({req}) returns ({resp})",
                    "",
                    _comment(comments.get((SERVICE, si, METHOD, mi), "")),
                    "",
                    f"Callers: {_callers(m)}.",
                    "",
                ]
        section: list[str] = []
        for i, m in enumerate(f.message_type):
            _message(page, comments, (MESSAGE, i), m, page.package, section)
        for i, e in enumerate(f.enum_type):
            _enum(page, comments, (ENUM, i), e, page.package, section)
        if section:
            types += [f"## Types in `{f.name}`", "", *section]
    sources = ", ".join(f"[`{f.name}`](../../protos/{f.name})" for f in files)
    head = [
        f"# `{page.package}`",
        "",
        f"Generated by `make descriptors` (tools/api_reference.py) from {sources}; do not edit by hand.",
        "[All packages](README.md).",
        "",
    ]
    return "\n".join(head + services + types).rstrip() + "\n"


def _message(
    page: _Page,
    comments: dict[tuple, str],
    path: tuple,
    m: descriptor_pb2.DescriptorProto,
    prefix: str,
    out: list[str],
) -> None:
    name = f"{prefix}.{m.name}"
    if m.options.map_entry:
        return
    short = name.removeprefix(page.package + ".")
    out += [f"### `{short}`", "", _comment(comments.get(path, "")) or "—", ""]
    if m.field:
        out += ["| field | number | type | description |", "|---|---|---|---|"]
        for i, fld in enumerate(m.field):
            ref = page.type_ref(fld)
            if fld.label == F.LABEL_REPEATED and not ref.startswith("map<"):
                ref = "repeated " + ref
            described = _cell(comments.get((*path, FIELD, i), ""))
            out.append(f"| `{fld.name}` | {fld.number} | {ref} | {described} |")
        out.append("")
    for i, e in enumerate(m.enum_type):
        _enum(page, comments, (*path, NESTED_ENUM, i), e, name, out)
    for i, n in enumerate(m.nested_type):
        _message(page, comments, (*path, NESTED, i), n, name, out)


def _enum(
    page: _Page,
    comments: dict[tuple, str],
    path: tuple,
    e: descriptor_pb2.EnumDescriptorProto,
    prefix: str,
    out: list[str],
) -> None:
    short = f"{prefix}.{e.name}".removeprefix(page.package + ".")
    out += [f"### `{short}` (enum)", "", _comment(comments.get(path, "")) or "—", ""]
    out += ["| value | number | description |", "|---|---|---|"]
    for i, v in enumerate(e.value):
        out.append(f"| `{v.name}` | {v.number} | {_cell(comments.get((*path, VALUE, i), ''))} |")
    out.append("")


INDEX = """\
# API reference

Generated by `make descriptors` (tools/api_reference.py) from the contracts in `protos/`; do not edit by hand.
The same contracts, with these comments, are served by every service's reflection (`grpcurl describe`) and ship as a
descriptor set, `gen/python/cms/descriptors.binpb` (package data of cms-contracts), for `grpcurl -protoset` and
code generators. Who may call each RPC: [access-policy.md](../access-policy.md); errors: the README's "Conventions
for callers"; the events: [asyncapi.yaml](../events/asyncapi.yaml).

| package | services |
|---|---|
"""


def render(fds: descriptor_pb2.FileDescriptorSet) -> dict[str, str]:
    """{file name: markdown} for docs/api/."""
    maps, where, enums = _index(fds)
    files: dict[str, list[descriptor_pb2.FileDescriptorProto]] = defaultdict(list)
    for f in fds.file:
        if f.name.startswith("cms/"):
            files[f.package].append(f)
    pages: dict[str, str] = {}
    index = [INDEX.rstrip("\n")]
    for package, members in sorted(files.items()):
        page = _Page(package, maps, where, enums)
        pages[f"{package}.md"] = _render_package(page, members)
        services = ", ".join(f"`{s.rpartition('.')[2]}`" for s in page.services) or "—"
        index.append(f"| [`{package}`]({package}.md) | {services} |")
    pages["README.md"] = "\n".join(index) + "\n"
    return pages


def write(out_dir: Path, descriptors: Path | None = None) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    fds = (
        descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes())
        if descriptors
        else descriptor_set()
    )
    pages = render(fds)
    for stale in out_dir.glob("*.md"):
        if stale.name not in pages:
            stale.unlink()
    for name, text in pages.items():
        (out_dir / name).write_text(text)


if __name__ == "__main__":
    write(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
