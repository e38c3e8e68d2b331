"""The admin app's files as a browser should cache them (issue 19 point 9).

`index.html` is read on every visit (`Cache-Control: no-cache`, revalidated by
ETag) and names every other file under ``/admin/v/<version>/``, where the
version is a hash of the whole app (its files and catalogues): those answers
are `immutable` for a year, so a returning browser asks for none of them, and
a release changes every address at once. A versioned address of another
version (an old page still open after a release) gets the current file,
revalidated like index.html.

The first screen needs few requests: the modules ``main.js`` imports
statically and the sign-in screen's are served as one module,
``/admin/v/<version>/js/app.js``, built here once per version without a build
step: each module's text, its imports turned into reads of the modules before
it, in a function scope of its own (the modules import each other in one
direction; a cycle, or an export form not handled below, stops the build with
an error). The other screens stay separate modules, loaded by ``import()`` on
first use; at the addresses of the bundled modules they find a small module
re-exporting the bundle's, so every screen shares one ``state``, one ``api``.
The unversioned ``/admin/js/*.js`` remain the plain source, as before.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import Response

from server.admin_locale import catalogue_json
from server.branding.inheritance import brand_for
from server.branding.service import organisation_for_host

ADMIN_ROOT = Path(__file__).resolve().parent.parent / "static" / "admin"
ENTRY = "main.js"
# Screens the first page shows: bundled with the shell (main.js loads the rest on use).
FIRST_SCREENS = ("screens/signin.js",)
BUNDLE = "app.js"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_IMPORT = re.compile(
    r'^import\s+(?:\{(?P<names>[^}]*)\}|\*\s+as\s+(?P<star>\w+))\s+from\s+"(?P<path>[^"]+)";?[ \t]*$',
    re.MULTILINE,
)
_BARE_IMPORT = re.compile(r'^import\s+"[^"]+";?[ \t]*$', re.MULTILINE)
_EXPORT = re.compile(
    r"^export\s+(?P<kind>async\s+function|function|class|const|let)\s+(?P<name>\w+)", re.MULTILINE
)
_OTHER_EXPORT = re.compile(r"^export\s+(?!async\s+function|function|class|const|let)", re.MULTILINE)
_DYNAMIC = re.compile(r'\bimport\("(?P<path>\.{1,2}/[^"]+)"\)')
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


class BundleError(Exception):
    """The app's modules use a form the bundle does not handle."""


@dataclass(frozen=True)
class Assets:
    version: str
    index: bytes
    bundle: bytes
    shims: dict[str, bytes]  # "js/api.js" → a module re-exporting the bundle's


def _resolve(importer: str, specifier: str) -> str:
    return posixpath.normpath(posixpath.join(posixpath.dirname(importer), specifier))


def _imports(source: str, name: str) -> list[str]:
    return [_resolve(name, m["path"]) for m in _IMPORT.finditer(source)]


def _order(js: Path, roots: tuple[str, ...]) -> list[str]:
    """The modules `roots` need, each after those it imports."""
    ordered: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise BundleError(f"import cycle: {' → '.join([*visiting, name])}")
        visiting.append(name)
        for dependency in _imports((js / name).read_text(encoding="utf-8"), name):
            visit(dependency)
        visiting.pop()
        ordered.append(name)

    for root in roots:
        visit(root)
    return ordered


def _module(name: str, source: str, bundled: set[str]) -> tuple[str, list[str]]:
    """One module's text in a function scope, and the names it exports."""
    if _OTHER_EXPORT.search(source):
        raise BundleError(f"{name}: only `export function|class|const|let NAME` is bundled")

    def imported(match: re.Match[str]) -> str:
        target = f'__modules["{_resolve(name, match["path"])}"]'
        if match["star"]:
            return f"const {match['star']} = {target};"
        names = ", ".join(
            part.strip().replace(" as ", ": ") for part in match["names"].split(",") if part.strip()
        )
        return f"const {{ {names} }} = {target};"

    def dynamic(match: re.Match[str]) -> str:
        target = _resolve(name, match["path"])
        if target in bundled:
            return f'Promise.resolve().then(() => __modules["{target}"])'
        return match[0]

    exports = [m["name"] for m in _EXPORT.finditer(source)]
    body = _EXPORT.sub(lambda m: m[0].removeprefix("export").lstrip(), source)
    body = _BARE_IMPORT.sub("", _IMPORT.sub(imported, body))
    body = _DYNAMIC.sub(dynamic, body)
    wrapped = (
        f'// --- {name}\n__modules["{name}"] = (() => {{\n{body}\n'
        f"return Object.freeze({{ {', '.join(exports)} }});\n}})();\n"
    )
    return wrapped, exports


def _version(root: Path) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())  # how the bundle is built
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != "documents.json"):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build(root: Path = ADMIN_ROOT) -> Assets:
    js = root / "js"
    version = _version(root)
    names = _order(js, (*FIRST_SCREENS, ENTRY))  # the shell last: it starts the app
    bundled = set(names)
    parts = [
        "// The admin app's shell and first screen (server/admin_assets.py).\n",
        "const __modules = {};\n",
    ]
    shims: dict[str, bytes] = {}
    for name in names:
        text, exports = _module(name, (js / name).read_text(encoding="utf-8"), bundled)
        parts.append(text)
        if name != ENTRY:
            up = "../" * name.count("/")
            shims[f"js/{name}"] = (
                f'import {{ __modules }} from "./{up}{BUNDLE}";\n'
                f'export const {{ {", ".join(exports)} }} = __modules["{name}"];\n'
            ).encode()
    parts.append("export { __modules };\n")
    prefix = f"/admin/v/{version}"
    index = (root / "index.html").read_text(encoding="utf-8")
    index = re.sub(r'\s*<link rel="modulepreload"[^>]*>', "", index)
    index = index.replace('href="/admin/admin.css"', f'href="{prefix}/admin.css"')
    index = index.replace('src="/admin/js/main.js"', f'src="{prefix}/js/{BUNDLE}"')
    return Assets(version, index.encode(), "".join(parts).encode(), shims)


_built: dict[str, Assets] = {}


def current(root: Path = ADMIN_ROOT) -> Assets:
    """The assets of the files as they are now (rebuilt when one changes: a
    development server follows edits; in production they do not change)."""
    key = str(
        sorted(
            (str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*") if p.is_file()
        )
    )
    assets = _built.get(key)
    if assets is None:
        _built.clear()
        assets = _built[key] = build(root)
    return assets


async def _host_brand(host: str | None) -> bytes:
    """`signInBrand` for this host name, as a JSON data block for index.html (the
    sign-in page needs no request of its own for it: static/admin/js/brand.js)."""
    brand = await brand_for(await organisation_for_host(host))
    data = {
        "portalName": brand.portal_name,
        "supportContact": brand.support_contact,
        "logoUrl": brand.logo_url,
        "colour": brand.colour,
        "language": brand.language,
    }
    # "<" escaped: no value can close the element or open a comment.
    text = orjson.dumps(data).replace(b"<", b"\\u003c")
    return b'<script type="application/json" id="sign-in-brand">' + text + b"</script>\n"


async def index_response(request: Request, root: Path = ADMIN_ROOT) -> Response:
    assets = current(root)
    brand = await _host_brand(request.headers.get("host"))
    body = assets.index.replace(b"</head>", brand + b"</head>", 1)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": REVALIDATE}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


def versioned_endpoint(root: Path = ADMIN_ROOT) -> Callable[[Request], Awaitable[Response]]:
    """/admin/v/{version}/{path}: the bundle, a bundled module's re-export, a
    catalogue, or a file of the app."""

    async def endpoint(request: Request) -> Response:
        return _versioned(request, root)

    return endpoint


def _versioned(request: Request, root: Path) -> Response:
    assets = current(root)
    path = request.path_params["path"]
    cache = IMMUTABLE if request.path_params["version"] == assets.version else REVALIDATE
    headers = {"Cache-Control": cache}
    if path == f"js/{BUNDLE}":
        return Response(assets.bundle, media_type=_MEDIA[".js"], headers=headers)
    if path in assets.shims:
        return Response(assets.shims[path], media_type=_MEDIA[".js"], headers=headers)
    catalogue = re.fullmatch(r"locale/([A-Za-z-]+)\.json", path)
    if catalogue:
        body = catalogue_json(catalogue[1])
        if body is not None:
            return Response(body, media_type="application/json", headers=headers)
    file = (root / path).resolve()
    if root.resolve() in file.parents and file.suffix in _MEDIA and file.is_file():
        return Response(file.read_bytes(), media_type=_MEDIA[file.suffix], headers=headers)
    return Response("Not found.", status_code=404, media_type="text/plain")
