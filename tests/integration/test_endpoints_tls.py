"""An endpoint with a self-signed certificate: refused by default, probed when told."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from luckytui.sources.endpoints import EndpointSpec, EndpointsSource


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@pytest.fixture
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    cert, key = certificate
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"https://127.0.0.1:{port}/health"
    finally:
        await runner.cleanup()


async def probe(url: str, verify: bool) -> tuple[bool, str | None, int | None]:
    source = EndpointsSource([EndpointSpec("health", "site", "GET", url, timeout_s=3,
                                           verify_tls=verify)], None)
    try:
        snap = await asyncio.wait_for(source.fetch(), 10)
    finally:
        await source.aclose()
    result = snap.endpoints[0]
    return result.ok, result.error, result.status


async def test_self_signed_certificate_is_not_trusted_by_default(tls_server: str) -> None:
    ok, error, status = await probe(tls_server, verify=True)
    assert not ok and status is None
    assert error is not None and "certificate" in error and "\n" not in error


async def test_verify_tls_false_probes_it(tls_server: str) -> None:
    ok, error, status = await probe(tls_server, verify=False)
    assert ok and error is None and status == 200
