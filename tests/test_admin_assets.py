"""The admin app's files as served (server/admin_assets.py): index.html names
versioned addresses and is revalidated; versioned files are immutable; the
bundle of the shell and first screen keeps one instance of each module; an
address outside the app is not served."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.admin_assets import IMMUTABLE, BundleError, build

ORIGIN = "http://127.0.0.1:8000"


def _app(root: Path, *, main: str, signin: str = "export function signIn() {}\n") -> Path:
    js = root / "js"
    (js / "screens").mkdir(parents=True)
    (root / "index.html").write_text(
        '<link rel="stylesheet" href="/admin/admin.css">\n'
        '<link rel="modulepreload" href="/admin/js/api.js">\n'
        '<script type="module" src="/admin/js/main.js"></script>\n'
    )
    (root / "admin.css").write_text("body {}\n")
    (js / "api.js").write_text('export const USER_ERROR = "x";\nexport async function gql() {}\n')
    (js / "main.js").write_text(main)
    (js / "screens" / "signin.js").write_text(signin)
    (js / "screens" / "users.js").write_text(
        'import { gql } from "../api.js";\nexport function list() {}\n'
    )
    return root


def test_the_bundle_holds_the_shell_and_first_screen_in_order(tmp_path: Path):
    root = _app(
        tmp_path,
        main='import { gql, USER_ERROR as E } from "./api.js";\n'
        'const first = () => import("./screens/signin.js");\n'
        'const later = () => import("./screens/users.js");\n',
        signin='import {\n  gql,\n} from "../api.js";\nexport function signIn() {}\n',
    )
    assets = build(root)
    bundle = assets.bundle.decode()
    # Each module once, after what it imports; the shell last (it starts the app).
    assert bundle.index('__modules["api.js"] =') < bundle.index('__modules["screens/signin.js"] =')
    assert bundle.index('__modules["screens/signin.js"] =') < bundle.index('__modules["main.js"] =')
    assert 'const { gql, USER_ERROR: E } = __modules["api.js"];' in bundle
    # The bundled screen is not fetched again; the others are loaded on use.
    assert 'Promise.resolve().then(() => __modules["screens/signin.js"])' in bundle
    assert 'import("./screens/users.js")' in bundle
    assert "export " not in bundle.replace("export { __modules };", "")
    # A bundled module's address re-exports the bundle's, so a screen shares it.
    assert assets.shims["js/api.js"].decode() == (
        'import { __modules } from "./app.js";\n'
        'export const { USER_ERROR, gql } = __modules["api.js"];\n'
    )
    assert assets.shims["js/screens/signin.js"].startswith(
        b'import { __modules } from "./../app.js"'
    )
    assert "js/screens/users.js" not in assets.shims
    index = assets.index.decode()
    assert f'src="/admin/v/{assets.version}/js/app.js"' in index
    assert f'href="/admin/v/{assets.version}/admin.css"' in index
    assert "modulepreload" not in index


def test_any_change_is_a_new_version(tmp_path: Path):
    root = _app(tmp_path, main="const x = 1;\n")
    before = build(root).version
    (root / "admin.css").write_text("body { color: red }\n")
    assert build(root).version != before


@pytest.mark.parametrize(
    ("main", "problem"),
    [
        ('import { a } from "./b.js";\n', "cycle"),
        ("export default 1;\n", "only `export"),
        ("export { x };\n", "only `export"),
    ],
)
def test_what_the_bundle_cannot_take_stops_it(tmp_path: Path, main: str, problem: str):
    root = _app(tmp_path, main=main)
    (root / "js" / "b.js").write_text('import { c } from "./main.js";\nexport const a = 1;\n')
    with pytest.raises(BundleError, match=problem):
        build(root)


async def test_the_app_serves_the_admin_files_with_their_caching(http):
    index = await http.get("/admin/users")
    assert index.headers["cache-control"] == "no-cache"
    again = await http.get("/admin/", headers={"if-none-match": index.headers["etag"]})
    assert again.status_code == 304
    src = index.text.split('<script type="module" src="')[1].split('"')[0]
    version = src.split("/")[3]
    bundle = await http.get(src)
    assert bundle.status_code == 200 and bundle.headers["cache-control"] == IMMUTABLE
    assert bundle.headers["content-type"].startswith("text/javascript")
    css = await http.get(f"/admin/v/{version}/admin.css")
    assert css.headers["cache-control"] == IMMUTABLE and css.headers["content-type"].startswith(
        "text/css"
    )
    old = await http.get("/admin/v/0123456789abcdef/js/screens/users.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
    for outside in (
        f"/admin/v/{version}/../../server/settings.py",
        f"/admin/v/{version}/%2e%2e/%2e%2e/pyproject.toml",
        f"/admin/v/{version}/documents.json",
        f"/admin/v/{version}/locale/de.po",
        f"/admin/v/{version}/locale/xx.json",
    ):
        answer = await http.get(outside)
        # Not found, or (a path the client normalised) the app's page: never the file.
        served = answer.status_code == 200 and not answer.text.startswith("<!doctype html>")
        assert not served and answer.status_code in (200, 404), outside


async def test_the_page_carries_the_brand_of_its_host_name(http, tree):
    import json

    from server.branding.models import OrganisationBrand

    await OrganisationBrand.create(
        organisation=tree.reseller,
        portal_name="R </script><!-- portal",
        host_name="portal.reseller.example",
    )
    page = (await http.get("/admin/sign-in", headers={"host": "portal.reseller.example"})).text
    block = page.split('<script type="application/json" id="sign-in-brand">')[1].split("</script>")[
        0
    ]
    assert "<" not in block  # escaped: nothing in it can end the element
    assert json.loads(block)["portalName"] == "R </script><!-- portal"
    own = (await http.get("/admin/sign-in")).text
    assert '"portalName":"Frontdesk"' in own
