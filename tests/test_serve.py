"""HTTP serving of the output folder and the download command (server on a free loopback port)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
from urllib.parse import urlsplit

import pandas as pd
import pytest
from publish_helpers import ROOT, publish_raw, subprocess_env
from serve_helpers import running_server

import schemas

SECRET = "top secret outside the output folder"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """An output folder with two releases, a symlink pointing outside it, and a running server."""
    from conftest import RAW

    root = tmp_path_factory.mktemp("serve")
    (root / "secret.txt").write_text(SECRET)
    out = root / "out"
    raw = root / "raw"
    shutil.copytree(RAW, raw)
    publish_raw(raw, out)
    (raw / "900_new.txt").write_text("A second headline\n\nA second paragraph of plain text.\n", encoding="utf-8")
    publish_raw(raw, out)
    os.symlink(root, out / "escape", target_is_directory=True)  # a symlink out of the folder
    os.symlink(root / "secret.txt", out / "secret-link.txt")
    recorder = []
    with running_server(out, recorder) as url:
        yield out, url, recorder[0]


def _raw_get(url: str, raw_path: str, method: str = "GET", headers: dict | None = None):
    """Send ``raw_path`` exactly as given (no client-side normalisation of ``..``)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest(method, raw_path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_pandas_reads_a_table_over_http(site):
    out, url, _ = site
    over_http = pd.read_parquet(f"{url}/latest/paragraphs.parquet")
    local = pd.read_parquet(out / "latest" / "paragraphs.parquet")
    pd.testing.assert_frame_equal(over_http, local)
    csv = pd.read_csv(f"{url}/latest/documents.csv")
    assert len(csv) == 6


def test_parquet_range_reads_through_fsspec_and_pyarrow(site):
    pytest.importorskip("aiohttp", reason="fsspec's HTTP filesystem needs aiohttp (dev extra)")
    import fsspec
    import pyarrow.parquet as pq

    out, url, recorder = site
    fs = fsspec.filesystem("http")
    with fs.open(f"{url}/1.1.0/paragraphs.parquet", "rb", block_size=4096) as fh:
        table = pq.read_table(fh, columns=["para_id", "text"])  # reads the footer, then column chunks
    assert table.num_rows == pd.read_parquet(out / "1.1.0" / "paragraphs.parquet").shape[0]
    partial = [r for r in recorder.requests if r[1] == "/1.1.0/paragraphs.parquet" and r[3] == 206]
    assert len(partial) >= 2 and all(r[2].startswith("bytes=") for r in partial)  # read by ranges
    df = pd.read_parquet(f"{url}/1.1.0/documents.parquet", storage_options={"block_size": 4096},
                         filesystem=fs)
    assert len(df) == 6


def test_duckdb_reads_parquet_over_http(site):
    duckdb = pytest.importorskip("duckdb", reason="duckdb is a dev extra")
    ext = pytest.importorskip("duckdb_ext", reason="the httpfs extension ships in duckdb-ext-httpfs (dev extra)")
    from pathlib import Path

    _, url, recorder = site
    found = sorted(Path(p) for base in ext.__path__ for p in Path(base).glob(
        f"extensions/v{duckdb.__version__}/*/httpfs.duckdb_extension"))
    if not found:
        pytest.skip(f"no httpfs extension for duckdb {duckdb.__version__} installed")
    con = duckdb.connect()
    con.execute(f"LOAD '{found[0]}'")
    n = con.execute(f"SELECT count(*) FROM read_parquet('{url}/latest/paragraphs.parquet')").fetchone()[0]
    assert n == len(pd.read_parquet(f"{url}/latest/paragraphs.parquet"))
    assert any(r[1] == "/latest/paragraphs.parquet" and r[3] == 206 for r in recorder.requests)
    docs = con.execute(f"SELECT count(*) FROM read_parquet('{url}/latest/documents.parquet') "
                       "WHERE len(source_files) = 1").fetchone()[0]
    assert docs == 6


def test_headers_range_etag_and_content_types(site):
    out, url, _ = site
    size = (out / "1.1.0" / "paragraphs.parquet").stat().st_size
    status, headers, body = _raw_get(url, "/1.1.0/paragraphs.parquet", headers={"Range": "bytes=0-3"})
    assert status == 206 and body == b"PAR1"
    assert headers["content-range"] == f"bytes 0-3/{size}" and headers["content-length"] == "4"
    status, headers, body = _raw_get(url, "/1.1.0/paragraphs.parquet", headers={"Range": "bytes=-8"})
    assert status == 206 and body[-4:] == b"PAR1"
    status, headers, body = _raw_get(url, "/1.1.0/paragraphs.parquet")
    assert status == 200 and int(headers["content-length"]) == size == len(body)
    assert headers["content-type"] == "application/vnd.apache.parquet"
    assert headers["accept-ranges"] == "bytes" and headers["x-content-type-options"] == "nosniff"
    assert "immutable" in headers["cache-control"]
    status, _, _ = _raw_get(url, "/1.1.0/paragraphs.parquet", headers={"If-None-Match": headers["etag"]})
    assert status == 304
    status, headers, _ = _raw_get(url, "/latest/documents.csv", method="HEAD")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert headers["cache-control"] == "no-cache"
    status, headers, body = _raw_get(url, "/")
    assert status == 200 and headers["content-type"].startswith("text/html") and b"1.1.0" in body
    status, headers, body = _raw_get(url, "/catalog.json")
    assert status == 200 and json.loads(body)["latest"] == "1.1.0"


@pytest.mark.parametrize("raw_path", [
    "/../secret.txt", "/latest/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/%2e%2e/secret.txt",
    "/latest/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt", "/latest/..%2f..%2fsecret.txt",
    "/escape/secret.txt", "/secret-link.txt", "//escape/secret.txt", "/.lock",
])
def test_path_traversal_and_symlink_escape_are_refused(site, raw_path):
    _, url, _ = site
    status, _, body = _raw_get(url, raw_path)
    assert status in (400, 404), (raw_path, status)
    assert SECRET.encode() not in body


def test_symlinks_inside_the_folder_work_and_no_directory_is_listed(site):
    out, url, _ = site
    status, _, body = _raw_get(url, "/latest/documents.csv")
    assert status == 200 and body == (out / "1.1.0" / "documents.csv").read_bytes()
    for folder in ("/1.1.0/", "/latest/", "/1.1.0", "/_failed/", "/escape/"):
        status, _, body = _raw_get(url, folder)
        assert status == 404, folder
        assert b"documents.csv" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_the_server_is_read_only(site, method):
    out, url, _ = site
    before = (out / "catalog.json").read_bytes()
    status, headers, _ = _raw_get(url, "/catalog.json", method=method)
    assert status == 405 and headers.get("allow") == "GET, HEAD"
    assert (out / "catalog.json").read_bytes() == before


def test_download_from_the_server_verifies_checksums(site, tmp_path):
    from flows.cli import main

    out, url, _ = site
    dest = tmp_path / "dl"
    assert main(["download", "--from", url, "--version", "latest", "--format", "parquet", str(dest)]) == 0
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        ["datapackage.json", *(f"{name}.parquet" for name in schemas.tables())])
    pkg = json.loads((dest / "datapackage.json").read_text())
    assert pkg["version"] == "1.1.0"
    for res in pkg["resources"]:  # the descriptor lists the CSV files too; only Parquet was asked for
        if res["format"] == "parquet":
            assert "sha256:" + hashlib.sha256((dest / res["path"]).read_bytes()).hexdigest() == res["hash"]
    dest_csv = tmp_path / "csv"
    assert main(["download", "--from", url, "--version", "1.0.0", "--format", "csv", str(dest_csv)]) == 0
    assert json.loads((dest_csv / "datapackage.json").read_text())["version"] == "1.0.0"
    for name in ("documents.csv", "paragraphs.csv", "rejections.csv", "raw_manifest.csv"):
        assert (dest_csv / name).read_bytes() == (out / "1.0.0" / name).read_bytes()


def test_download_refuses_a_file_that_does_not_match(tmp_path, capsys):
    """A local copy of a release with one altered file: the download fails and leaves no such file."""
    from conftest import RAW

    from flows.cli import main

    out = tmp_path / "out"
    publish_raw(RAW, out)
    bad = tmp_path / "bad"
    shutil.copytree(out, bad, symlinks=True)
    target = bad / "1.0.0" / "paragraphs.csv"
    (bad / "1.0.0").chmod(0o755)
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b"Iraq", b"Iraw", 1))
    dest = tmp_path / "dl"
    assert main(["download", "--output", str(bad), "--format", "csv", str(dest)]) == 1
    assert "sha256" in capsys.readouterr().err
    # all or nothing: not even the files verified before the bad one (documents.csv comes first)
    assert not dest.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad", "out"]
    assert main(["download", "--output", str(out), "--format", "csv", str(dest)]) == 0
    assert (dest / "paragraphs.csv").read_bytes() == (out / "1.0.0" / "paragraphs.csv").read_bytes()
    # into a folder holding a download already: a failed download leaves it as it was
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert main(["download", "--output", str(bad), "--format", "parquet", str(dest)]) == 0  # (intact)
    with_parquet = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert set(with_parquet) - set(before) == {f"{name}.parquet" for name in schemas.tables()}
    assert main(["download", "--output", str(bad), "--format", "csv", str(dest)]) == 1
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == with_parquet


def test_a_killed_download_leaves_nothing_for_the_next_one(tmp_path):
    """A download killed while fetching leaves its staging folder (and no file of the release in
    DEST); the next download into the same place removes it."""
    from conftest import RAW

    from flows.cli import main
    from flows.common import workdirs

    out = tmp_path / "out"
    publish_raw(RAW, out)
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "mine.txt").write_text("kept")
    killed = subprocess.Popen(  # a download stopped for good while fetching (SIGKILL)
        [sys.executable, "-c", "import sys, os, signal; import flows.publish.download as d; "
         "d._fetch_verified = lambda *a: os.kill(os.getpid(), signal.SIGKILL); "
         "d.download(sys.argv[1], source=sys.argv[2])", str(dest), str(out)],
        cwd=ROOT, env=subprocess_env())
    assert killed.wait(timeout=120) == -signal.SIGKILL
    stale = [p.name for p in dest.iterdir() if p.name.startswith(".download-")]
    assert len(stale) == 1 and sorted(p.name for p in dest.iterdir()) == sorted(["mine.txt", *stale])
    assert main(["download", "--output", str(out), "--format", "csv", str(dest)]) == 0
    assert not [p for p in dest.iterdir() if p.name.startswith(".download-")]
    assert (dest / "mine.txt").read_text() == "kept" and (dest / "datapackage.json").exists()
    assert not workdirs.sweep(".download-", dest)


def test_download_refuses_resource_paths_outside_the_release():
    from flows.publish.download import VerificationError, _safe_name

    assert _safe_name("documents.csv") == "documents.csv"
    for bad in ("../secret.txt", "/etc/passwd", "a/b.csv", ".hidden", "..", "a\\b"):
        with pytest.raises(VerificationError):
            _safe_name(bad)


def _non_loopback_address() -> str | None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def test_serve_command_binds_loopback_by_default(site, tmp_path):
    import socket
    import subprocess
    import sys

    from publish_helpers import ROOT, subprocess_env
    from serve_helpers import first_answer, free_port

    out, _, _ = site
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "flows", "serve", "--output", str(out), "--port", str(port)],
                            cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        r = first_answer(f"http://127.0.0.1:{port}/latest/datapackage.json", proc, "server")
        assert r.status_code == 200 and r.json()["version"] == "1.1.0"
        other = _non_loopback_address()
        if other:
            with pytest.raises(OSError):
                socket.create_connection((other, port), timeout=2).close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from flows.cli import main

    assert main(["serve", "--output", str(tmp_path / "missing")]) == 2
