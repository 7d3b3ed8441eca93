"""GraphiQL served entirely by the hub: the city intranet often has no internet.

The assets come from the npm registry at set-up time (``hub graphiql install``, run by ``make``)
and are checked against the same Subresource Integrity hashes the page carries, so a wrong or
tampered file is refused by the installer and by the browser.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

ASSET_PATH = "/graphiql/assets"


@dataclass(frozen=True)
class Asset:
    package: str
    member: str  # path inside the npm tarball
    name: str  # file name served under ASSET_PATH
    integrity: str


ASSETS = (
    Asset("react@18.2.0", "package/umd/react.production.min.js", "react.production.min.js",
          "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8"),
    Asset("react-dom@18.2.0", "package/umd/react-dom.production.min.js", "react-dom.production.min.js",
          "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh"),
    Asset("graphiql@3.8.3", "package/graphiql.min.css", "graphiql.min.css",
          "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM"),
    Asset("graphiql@3.8.3", "package/graphiql.min.js", "graphiql.min.js",
          "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie"),
    Asset("@graphiql/plugin-explorer@1.0.2", "package/dist/style.css", "explorer.css",
          "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi"),
    Asset("@graphiql/plugin-explorer@1.0.2", "package/dist/index.umd.js", "explorer.umd.js",
          "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9"),
)

_PAGE = (Path(__file__).parent / "graphiql.html").read_text(encoding="utf-8")


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def installed(directory: Path) -> bool:
    return all((directory / a.name).is_file() for a in ASSETS)


def install(directory: Path) -> list[Path]:
    """Fetch the assets from the npm registry (``npm pack``) and keep the files the page loads."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        for package in sorted({a.package for a in ASSETS}):
            out = subprocess.run(
                ["npm", "pack", package, "--silent", "--pack-destination", tmp],
                check=True, capture_output=True, text=True,
            )
            tarball = Path(tmp) / out.stdout.strip().splitlines()[-1]
            with tarfile.open(tarball) as archive:
                for asset in (a for a in ASSETS if a.package == package):
                    member = archive.extractfile(asset.member)
                    if member is None:
                        raise RuntimeError(f"{package} {asset.member}: not a file in the package")
                    data = member.read()
                    if sri(data) != asset.integrity:
                        raise RuntimeError(f"{package} {asset.member}: integrity mismatch")
                    target = directory / asset.name
                    target.write_bytes(data)
                    written.append(target)
    return written


class GraphiQL:
    def __init__(self, assets_dir: Path, endpoint: str = "/graphql") -> None:
        self.assets_dir = assets_dir
        self._html = _PAGE.replace("{{ASSETS}}", ASSET_PATH).replace("{{ENDPOINT}}", endpoint)
        for asset in ASSETS:
            self._html = self._html.replace("{{SRI:" + asset.name + "}}", asset.integrity)

    def page(self, headers: dict[str, str]) -> Response:
        if not installed(self.assets_dir):
            return HTMLResponse(
                "<h1>GraphiQL is not installed</h1><p>Run <code>hub graphiql install</code> "
                "(or <code>make run</code>), then reload.</p>", status_code=503, headers=headers,
            )
        return HTMLResponse(self._html, headers=headers)

    def static_app(self) -> StaticFiles:
        return StaticFiles(directory=self.assets_dir, check_dir=False)


