"""Ingest: read every file of the raw folder, check it, decode it, fingerprint it.

``ingest(raw_dir)`` returns two tables: ``sources`` (one row per distinct content, with the decoded
text, for the later stages) and ``rejections`` (inputs that cannot become a document, with a reason).
``reject_all_boilerplate`` runs after cleaning and moves documents without a single content paragraph
to ``rejections``. ``check_accounting`` proves that every input ended up in exactly one place:

    raw files + manifest rows without a file  ==  documents.source_files + rejections.file

Every entry of the raw folder but the manifest is an input (``scan_raw``); nothing outside the raw
folder is ever opened. Entries that are not read, each with its reason code (``rejections.reason``):

- ``hidden``         the name starts with "." (``.DS_Store``, ``.git``): never looked into
- ``in_subfolder``   a folder (or a link to one): articles must be files directly in the raw folder
- ``broken_link``    a symbolic link to nothing (or a loop of links)
- ``outside_raw``    a symbolic link to something outside the raw folder: never opened (a link to a
                     file inside the raw folder is read as that file)
- ``not_a_file``     a FIFO, socket or device

Checks on the files, in order:

- ``missing_file``   a row of ``sources.csv`` names a file that is not in the raw folder
- ``unreadable``     the file cannot be read (permissions, I/O error)
- ``too_large``      over ``max_bytes`` (``lexicons/ingest.yaml``); not read into memory
- ``sha256_mismatch`` ``sources.csv`` declares a sha256 that is not the file's
- ``empty``          no bytes, or only whitespace (also after decoding: no-break spaces, BOM only)
- ``binary``         an image or other binary format (magic number, ``filetype``), NUL bytes, or
                     too many control characters after decoding
- ``undecodable``    not UTF-8 (with or without BOM; a text that is UTF-8 but for a few invalid bytes
                     is UTF-8, those bytes replaced by U+FFFD and counted), not UTF-16 (with BOM, or
                     recognised by its NUL bytes without one), and neither the encoding declared in
                     ``sources.csv`` nor a detected legacy encoding (charset-normalizer, among
                     ``legacy_encodings``) decodes it
- ``html``           an HTML page instead of plain text (rejected, not converted: every record's
                     character offsets point into the raw text, which an HTML-to-text conversion
                     would not preserve)
- ``non_english``    mostly non-Latin letters, or too few English function words (stopword list in
                     ``lexicons/ingest.yaml``; texts too short to judge are kept)
- ``all_boilerplate`` after cleaning, not one paragraph is article content

A file that is not listed in ``sources.csv`` is processed like any other; ``raw_inventory`` flags it
(``in_manifest`` false). The same bytes under several names make one document whose
``source_files`` lists every name.

The manifest is read strictly (``read_manifest``): a malformed one (an unclosed quote, a row with
more fields than the header, a field spanning lines, no ``file`` column, not UTF-8) raises
:class:`ManifestError` naming the line, before any file is read. Values that cannot be used are
refused, not published, and the document says so in ``warnings``: a ``url`` other than http(s), a
date that is not ISO 8601 (``YYYY-MM-DD``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import functools
import hashlib
import os
import re
import stat
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePath

import pandas as pd

from flows.common import frames
from flows.common.lexicons import read_yaml
from flows.common.paths import LEXICONS_DIR, MANIFEST_NAME

MANIFEST_COLUMNS = ["file", "sha256", "outlet", "url", "retrieved_date", "published_date", "license", "encoding"]
SOURCE_COLUMNS = ["doc_id", "source_file", "source_files", "sha256", "n_bytes", "encoding", "n_invalid_bytes",
                  "warnings", "text", "n_chars", "outlet", "url", "retrieved_date", "published_date", "license"]
REJECTION_COLUMNS = ["file", "sha256", "n_bytes", "reason", "detail"]
_CHUNK = 1 << 20


class AccountingError(RuntimeError):
    """Some raw input is neither in documents.source_files nor in rejections (or is in both)."""


class ManifestError(ValueError):
    """``sources.csv`` is malformed (the message names the line): nothing is built from it."""


# --- configuration (lexicons/ingest.yaml) -----------------------------------------------------------

@dataclass(frozen=True)
class Config:
    max_bytes: int
    legacy_encodings: tuple[str, ...]
    detect_margin: float
    utf8_max_invalid_share: float
    max_control_share: float
    textual_formats: frozenset[str]
    html_min_tags: int
    min_words: int
    min_ratio: float
    min_latin_share: float
    min_letters: int
    stopwords: frozenset[str]


@functools.cache
def load_config(lexicons_dir: Path = LEXICONS_DIR) -> Config:
    spec = read_yaml(Path(lexicons_dir) / "ingest.yaml")
    english = spec["english"]
    encodings = tuple(spec["legacy_encodings"])
    for name in encodings:
        codecs.lookup(name)  # an unknown codec name fails here, at load time
    return Config(
        max_bytes=int(spec["max_bytes"]),
        legacy_encodings=encodings,
        detect_margin=float(spec.get("detect_margin", 0.02)),
        utf8_max_invalid_share=float(spec.get("utf8_max_invalid_share", 0.5)),
        max_control_share=float(spec["binary"]["max_control_share"]),
        textual_formats=frozenset(spec["binary"].get("textual_formats", ())),
        html_min_tags=int(spec["html"]["min_tags"]),
        min_words=int(english["min_words"]),
        min_ratio=float(english["min_ratio"]),
        min_latin_share=float(english["min_latin_share"]),
        min_letters=int(english["min_letters"]),
        stopwords=frozenset(str(w).casefold() for w in english["stopwords"]),
    )


# --- small helpers ----------------------------------------------------------------------------------

def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_path(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def doc_id_for(sha256: str) -> str:
    return "d" + sha256[:16]


def file_name(path: Path) -> str:
    """The name recorded for a raw file: its own name, with bytes that are not UTF-8 (possible on
    POSIX file systems) written as ``\\xNN`` escapes so that it can be stored in Parquet and CSV."""
    name = path.name if isinstance(path, PurePath) else Path(path).name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def _key(name: str) -> str:
    """Manifest rows and files are matched by NFC-normalised name (macOS writes NFD names)."""
    return unicodedata.normalize("NFC", name)


# --- the raw folder and its manifest ---------------------------------------------------------------

def _empty_manifest() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in MANIFEST_COLUMNS})


def _manifest_bytes(raw_dir: Path) -> bytes | None:
    """The bytes of ``sources.csv`` (None when there is none). Like an article, it is read only from
    inside the raw folder: a link to elsewhere, a folder or a FIFO by that name is a ManifestError."""
    raw_dir = Path(raw_dir)
    path = raw_dir / MANIFEST_NAME
    if not os.path.lexists(path):
        return None
    entry = _entry(raw_dir, os.path.realpath(raw_dir), MANIFEST_NAME)
    if entry.path is None:
        raise ManifestError(f"{MANIFEST_NAME} cannot be read as the manifest: {entry.detail} ({entry.reason})")
    return read_entry(entry)[2]


def read_manifest(raw_dir: Path) -> pd.DataFrame:
    """The raw manifest (``sources.csv``): one row per file with what is known about it.

    Optional columns may be absent (a row may also stop before the last columns); rows without a
    file name are ignored; a file listed twice keeps its first row. A malformed manifest raises
    :class:`ManifestError` naming the line: not UTF-8, no ``file`` column, an unclosed quote (the CSV
    reader runs to the end of the file, or the field swallows the next rows: so no field may span
    lines, and a file whose name holds a line break cannot be listed: it is processed unlisted), a
    row with more fields than the header.
    """
    import io

    data = _manifest_bytes(raw_dir)
    if data is None:
        return _empty_manifest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ManifestError(f"{MANIFEST_NAME} line {line}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start}); save the manifest as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, start = [], 1
    try:
        header = [h.strip() for h in next(reader, [])]
        if not header:
            return _empty_manifest()
        if "file" not in header:
            raise ManifestError(f"{MANIFEST_NAME} line 1: no 'file' column in the header {header}")
        start = reader.line_num + 1
        for record in reader:
            end = reader.line_num
            if len(record) > len(header):
                raise ManifestError(f"{MANIFEST_NAME} line {start}: {len(record)} fields, the header has "
                                    f"{len(header)} (a comma in an unquoted value?)")
            for column, value in zip(header, record):
                if "\n" in value or "\r" in value:
                    raise ManifestError(f"{MANIFEST_NAME} line {start}: the {column!r} field runs on to line "
                                        f"{end} (an unclosed quote?); no field may span lines")
            row = dict(zip(header, record))
            if (row.get("file") or "").strip():
                rows.append({c: row.get(c) or None for c in MANIFEST_COLUMNS})
            start = end + 1
    except csv.Error as exc:
        raise ManifestError(f"{MANIFEST_NAME} line {start}: malformed CSV ({exc}; an unclosed quote?)") from None
    return _first_row_per_file(pd.DataFrame(rows, columns=MANIFEST_COLUMNS, dtype=object))


def _first_row_per_file(df: pd.DataFrame) -> pd.DataFrame:
    """One row per file, the first (names compared as they are matched: NFC-normalised)."""
    return df[~df["file"].map(_key).duplicated(keep="first")].reset_index(drop=True)


def _manifest_frame(manifest) -> pd.DataFrame:
    """Manifest rows given as a frame or as a list of dicts (a batch's rows), as ``read_manifest``
    returns them."""
    if isinstance(manifest, pd.DataFrame):
        return manifest
    df = pd.DataFrame([{k: r.get(k) for k in MANIFEST_COLUMNS} for r in manifest], columns=MANIFEST_COLUMNS)
    df = df.astype(object).where(df.notna(), None)
    return _first_row_per_file(df.map(lambda v: None if v == "" else v))


def _http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def iso_date(value: str) -> str | None:
    """``value`` as an ISO date ``YYYY-MM-DD`` (an ISO 8601 date or date-time), else None."""
    value = str(value).strip()
    for parse in (dt.date.fromisoformat, lambda v: dt.datetime.fromisoformat(v).date()):
        try:
            return parse(value).isoformat()
        except ValueError:
            continue
    return None


def check_manifest_row(row: dict) -> tuple[dict, list[str]]:
    """A manifest row's values as they may be published, and a warning for each value refused: a
    ``url`` other than http(s) and a date that is not ISO 8601 are dropped (null), not guessed."""
    meta = {k: None if v is None or (not isinstance(v, str) and pd.isna(v)) else v for k, v in row.items()}
    warnings = []
    url = meta.get("url")
    if url is not None:
        if _http_url(url.strip()):
            meta["url"] = url.strip()
        else:
            warnings.append(f"url {url!r} of {MANIFEST_NAME} refused (only http and https URLs are published)")
            meta["url"] = None
    for column in ("retrieved_date", "published_date"):
        value = meta.get(column)
        if value is None:
            continue
        meta[column] = iso_date(value)
        if meta[column] is None:
            warnings.append(f"{column} {value!r} of {MANIFEST_NAME} is not an ISO date (YYYY-MM-DD): ignored")
    return meta, warnings


@dataclass(frozen=True)
class Entry:
    """An entry of the raw folder: its name on disk (``os.fsdecode``: bytes that are not UTF-8 as
    surrogates), its recorded name (:func:`file_name`) and the path to read it from, always inside
    the raw folder; or, for an entry that is not read, the reason and detail of its rejection."""

    disk_name: str
    name: str
    path: Path | None
    reason: str | None = None
    detail: str | None = None


def _inside(root: str, real: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _kind(mode: int) -> str:
    return ("FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else
            "character device" if stat.S_ISCHR(mode) else "block device" if stat.S_ISBLK(mode) else "special file")


def _entry(raw_dir: Path, root: str, disk_name: str) -> Entry:
    """What the raw folder's entry ``disk_name`` is, and where to read it (see :func:`scan_raw`)."""
    name = file_name(disk_name)
    if disk_name.startswith("."):
        return Entry(disk_name, name, None, "hidden", "hidden entry (its name starts with '.'): not read")
    path = raw_dir / disk_name
    try:
        st = os.lstat(path)
    except OSError as exc:
        return Entry(disk_name, name, None, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}")
    link = stat.S_ISLNK(st.st_mode)
    if link:
        try:
            st = os.stat(path)  # where it points (metadata only: nothing outside is opened)
        except OSError as exc:
            what = "a loop of symbolic links" if exc.errno == errno.ELOOP else "a symbolic link to nothing"
            return Entry(disk_name, name, None, "broken_link", f"{what}: not read")
        real = os.path.realpath(path)
        if not _inside(root, real):
            return Entry(disk_name, name, None, "outside_raw",
                         "a symbolic link to something outside the raw folder: not read")
        path = Path(real)
    if stat.S_ISDIR(st.st_mode):
        n = sum(len(files) for _, _, files in os.walk(path))  # (links to folders are not followed)
        what = "a symbolic link to a folder" if link else "a folder"
        return Entry(disk_name, name, None, "in_subfolder",
                     f"{what} ({n} files in it): not read; put article files directly in the raw folder")
    if not stat.S_ISREG(st.st_mode):
        return Entry(disk_name, name, None, "not_a_file", f"a {_kind(st.st_mode)}, not a regular file: not read")
    return Entry(disk_name, name, path)


def scan_raw(raw_dir: Path, names: list[str] | None = None) -> list[Entry]:
    """Every entry of the raw folder but the manifest (or only ``names``, names on disk), by recorded
    name. A regular file is read; a symbolic link to a regular file inside the raw folder is read as
    that file; anything else is not read and gets its rejection reason: ``hidden``, ``in_subfolder``,
    ``broken_link``, ``outside_raw``, ``not_a_file`` (``unreadable`` when it cannot even be looked at)."""
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder {raw_dir} does not exist")
    root = os.path.realpath(raw_dir)
    if names is None:
        with os.scandir(raw_dir) as it:
            names = [e.name for e in it if e.name != MANIFEST_NAME]
    return sorted((_entry(raw_dir, root, n) for n in names), key=lambda e: e.name)


def read_entry(entry: Entry, max_bytes: int | None = None) -> tuple[int, str, bytes | None]:
    """``(n_bytes, sha256, data)`` of a readable entry; ``data`` is None when the file is larger than
    ``max_bytes`` (then hashed a chunk at a time, not read into memory). Opened without following a
    link (a file swapped for a link since the scan fails to open) and without waiting (a FIFO)."""
    fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, f"no longer a regular file ({_kind(st.st_mode)})")
        if max_bytes is not None and st.st_size > max_bytes:
            return st.st_size, hashlib.file_digest(fh, "sha256").hexdigest(), None
        data = fh.read()
    return len(data), sha256_bytes(data), data


def entry_digest(entry: Entry) -> str:
    """The content key of an entry: the sha256 of a readable file's bytes; for an entry that is not
    read (or cannot be), the hash of its reason and detail (all that its rejection row depends on)."""
    if entry.path is not None:
        try:
            return read_entry(entry, 0)[1]
        except OSError as exc:
            entry = Entry(entry.disk_name, entry.name, None, "unreadable", f"{type(exc).__name__}: {exc}")
    return sha256_bytes(f"not read\0{entry.reason}\0{entry.detail}".encode())


def list_raw_files(raw_dir: Path) -> list[Path]:
    """The raw folder's entries that are read as articles (regular files, and links to regular files
    inside the raw folder), as paths in the raw folder."""
    return [Path(raw_dir) / e.disk_name for e in scan_raw(raw_dir) if e.path is not None]


def expected_inputs(raw_dir: Path, names: list[str] | None = None, manifest=None) -> list[str]:
    """Every input the run must account for: the raw folder's entries (or only ``names``) plus the
    manifest's rows (or only ``manifest``'s) that name no such entry."""
    entries = scan_raw(raw_dir, names)
    manifest = read_manifest(raw_dir) if manifest is None else _manifest_frame(manifest)
    present = {_key(e.name) for e in entries}
    return [e.name for e in entries] + [f for f in manifest["file"] if _key(f) not in present]


# --- checks on bytes and on text --------------------------------------------------------------------

NUL = b"\x00"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# control characters (Unicode category Cc) other than tab, LF, VT, FF, CR
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_HTML_START = re.compile(r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE | re.DOTALL)
_HTML_ELEMENTS = (
    "html|head|body|title|meta|link|script|style|noscript|iframe|div|span|p|a|br|hr|img|ul|ol|li|"
    "table|thead|tbody|tr|td|th|h[1-6]|strong|em|b|i|u|nav|header|footer|article|section|aside|"
    "main|form|input|button|figure|figcaption|blockquote|pre|code|svg|source|picture|time"
)
_HTML_TAG = re.compile(r"</?(?:" + _HTML_ELEMENTS + r")(?:\s[^<>]*)?/?>", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
_LANGUAGE_SAMPLE = 200_000
_C0_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")


def _utf16_layout(data: bytes) -> str | None:
    """"utf-16-le" or "utf-16-be" when ``data`` is laid out like UTF-16 text without a byte-order mark:
    most of its characters have a NUL high byte (Latin text), at one parity of position only."""
    n = len(data) // 2
    if n < 2 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd >= n / 2 and even <= n / 20:
        return "utf-16-le"
    if even >= n / 2 and odd <= n / 20:
        return "utf-16-be"
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """The UTF-16 codec of a text without byte-order mark (see :func:`_utf16_layout`) that decodes it."""
    codec = _utf16_layout(data)
    if codec is None:
        return None
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return None
    return codec


def _text_like(head: bytes, config: Config) -> bool:
    if head.startswith(_UTF16_BOMS) or _utf16_layout(head[:len(head) // 2 * 2]):
        return True
    return len(_C0_BYTES.findall(head)) <= config.max_control_share * len(head) and NUL not in head


def check_bytes(data: bytes, config: Config | None = None) -> tuple[str, str] | None:
    """(reason, detail) when the raw bytes cannot be a text article, else None."""
    config = config or load_config()
    if not data.strip():
        return "empty", "file is empty or whitespace only"
    import filetype

    head = data[:8192]
    kind = filetype.guess(head)
    # Some signatures are short text ("BM" = bitmap, "ID3" = MP3, "MZ" = executable): an article
    # starting with "BMW ..." is not an image. A signature counts when the head of the file is not
    # text-like (NUL or control bytes), or for formats that are text-like themselves (RTF, PostScript).
    if kind is not None and (kind.extension in config.textual_formats or not _text_like(head, config)):
        return "binary", f"{kind.mime} file (detected by magic number, .{kind.extension})"
    if NUL in data and not data.startswith(_UTF16_BOMS) and not utf16_without_bom(data):
        hint = (" (laid out like UTF-16 without a byte-order mark, but it does not decode as UTF-16)"
                if _utf16_layout(data) else "")
        return "binary", f"contains {data.count(NUL)} NUL bytes{hint}"
    return None


def _same_codec(a: str, b: str) -> bool:
    return codecs.lookup(a).name == codecs.lookup(b).name


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # an invalid byte, as "surrogateescape" decodes it
_REPLACEMENT = "\ufffd"


def _utf8_but_a_few_bytes(data: bytes, config: Config, marked: bool) -> tuple[str, int] | None:
    """``(text, n_invalid_bytes)``: ``data`` decoded as UTF-8, each invalid sequence replaced by
    U+FFFD (as Python's "replace" does), when it is UTF-8 but for a few bytes; else None.

    "A few": its invalid sequences are at most ``utf8_max_invalid_share`` of its non-ASCII sequences
    (valid multi-byte sequences, which a legacy encoding would turn into mojibake, outnumber them);
    for a text marked as UTF-8 (a BOM, or declared in the manifest), its invalid bytes are at most
    that share of its bytes."""
    escaped = data.decode("utf-8", "surrogateescape")
    n_bad = len(_ESCAPED_BYTE.findall(escaped))  # one escape per invalid byte
    if not n_bad:
        return escaped, 0
    text = data.decode("utf-8", "replace")
    invalid = text.count(_REPLACEMENT) - data.count(_REPLACEMENT.encode())  # invalid sequences
    valid = len(escaped) - len(escaped.encode("ascii", "ignore")) - n_bad  # valid multi-byte sequences
    share = config.utf8_max_invalid_share
    if marked:
        return (text, n_bad) if n_bad <= share * len(data) else None
    return (text, n_bad) if valid and invalid <= share * (valid + invalid) else None


def decode(data: bytes, declared: str | None = None, config: Config | None = None) -> tuple[str, str]:
    """Decode raw bytes; return (text, encoding). See :func:`decode_counted`."""
    text, encoding, _ = decode_counted(data, declared, config)
    return text, encoding


def decode_counted(data: bytes, declared: str | None = None, config: Config | None = None) -> tuple[str, str, int]:
    """Decode raw bytes; return (text, encoding, number of invalid bytes replaced by U+FFFD).

    Tried in order: UTF-8 with BOM, UTF-16 with BOM, UTF-16 without BOM (recognised by its NUL
    bytes), UTF-8, the encoding declared for the file (it must be one of the configured legacy encodings,
    or UTF-8), UTF-8 with a few invalid bytes replaced (see :func:`_utf8_but_a_few_bytes`: a text
    that is UTF-8 but for a few bytes is never read in a legacy encoding, which would garble every
    valid multi-byte sequence), then a legacy encoding detected by charset-normalizer among the
    configured ones. When several configured encodings give the very same text, the first one in the
    configured order is recorded (cp1252 rather than cp1250 for plain English; see
    ``detect_margin``). Raises UnicodeDecodeError when nothing fits.
    """
    config = config or load_config()
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        try:
            return body.decode("utf-8"), "utf-8-sig", 0
        except UnicodeDecodeError:
            fixed = _utf8_but_a_few_bytes(body, config, marked=True)
            if fixed is None:
                raise
            return fixed[0], "utf-8-sig", fixed[1]
    if data.startswith(_UTF16_BOMS):
        return data.decode("utf-16"), "utf-16", 0
    bomless = utf16_without_bom(data) if NUL in data else None  # (ASCII in UTF-16 is valid UTF-8 too)
    if bomless:
        return data.decode(bomless), bomless, 0
    try:
        return data.decode("utf-8"), "utf-8", 0
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if declared:
        known = _known_codec(declared)
        if known and _same_codec(declared, "utf-8"):
            fixed = _utf8_but_a_few_bytes(data, config, marked=True)
            if fixed is None:
                raise utf8_error
            return fixed[0], "utf-8", fixed[1]
        name = next((e for e in config.legacy_encodings if known and _same_codec(e, declared)), None)
        if name is None:
            raise UnicodeDecodeError("utf-8", data, utf8_error.start, utf8_error.end,
                                     f"not UTF-8, and the declared encoding {declared!r} is not one of "
                                     f"{list(config.legacy_encodings)}")
        try:
            return data.decode(name), name, 0
        except UnicodeDecodeError as exc:
            raise UnicodeDecodeError(name, data, exc.start, exc.end,
                                     f"not UTF-8, and not {name} as declared ({exc.reason})") from None
    fixed = _utf8_but_a_few_bytes(data, config, marked=False)
    if fixed is not None:
        return fixed[0], "utf-8", fixed[1]
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=[codecs.lookup(e).name for e in config.legacy_encodings]))
    if not matches:
        raise UnicodeDecodeError("utf-8", data, utf8_error.start, utf8_error.end,
                                 "not UTF-8 and no configured legacy encoding fits "
                                 f"({', '.join(config.legacy_encodings)})")
    # Single-byte encodings are hard to tell apart on text with few non-ASCII letters: among the
    # encodings whose decoding is (nearly) as clean as the best one, the configured order decides.
    least = min(m.chaos for m in matches)
    close = [m for m in matches if m.chaos <= least + config.detect_margin]
    for name in config.legacy_encodings:
        for m in close:
            if any(_same_codec(name, e) for e in [m.encoding, *m.could_be_from_charset]):
                try:
                    return data.decode(name), name, 0
                except UnicodeDecodeError:
                    continue
    raise UnicodeDecodeError("utf-8", data, utf8_error.start, utf8_error.end,  # pragma: no cover
                             "not UTF-8 and no configured legacy encoding fits")


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
        return True
    except LookupError:
        return False


_LATIN = "\u0000-\u024f\u1e00-\u1eff\u2c60-\u2c7f\ua720-\ua7ff\uff21-\uff5a"
_LETTERS = re.compile(r"[^\W\d_]+")  # runs of letters (counted by length: one list item a word, not a letter)
# a letter outside the Latin ranges, as one character class (a lookahead per character is much slower)
_NON_LATIN_LETTER = re.compile(r"[^" + _LATIN + r"\W\d_]")
_NON_LATIN = re.compile("[^" + _LATIN + "]")


def english_score(text: str, config: Config | None = None) -> dict:
    """Figures the language check decides on (over the first 200,000 characters): letters, the share
    of them in Latin script, words (those written in Latin script only) and the share of those that
    are English function words."""
    config = config or load_config()
    sample = text[:_LANGUAGE_SAMPLE]
    letters = sum(map(len, _LETTERS.findall(sample)))
    if sample.isascii():  # every letter and word is Latin, and casefold() is lower()
        latin = letters
        words = _WORD.findall(sample.lower())
    else:
        latin = letters - len(_NON_LATIN_LETTER.findall(sample))
        words = [w.casefold() for w in _WORD.findall(sample) if w.isascii() or not _NON_LATIN.search(w)]
    stop = sum(map(config.stopwords.__contains__, words))
    return {"letters": letters, "latin_share": latin / letters if letters else 1.0,
            "words": len(words), "stopword_ratio": stop / len(words) if words else 0.0}


def check_language(text: str, config: Config | None = None) -> tuple[str, str] | None:
    config = config or load_config()
    s = english_score(text, config)
    if s["letters"] >= config.min_letters and s["latin_share"] < config.min_latin_share:
        return "non_english", (f"mostly non-Latin script: {s['latin_share']:.0%} of {s['letters']} letters are "
                               f"Latin (English needs at least {config.min_latin_share:.0%})")
    if s["words"] >= config.min_words and s["stopword_ratio"] < config.min_ratio:
        return "non_english", (f"{s['stopword_ratio']:.1%} of {s['words']} words are English function words "
                               f"(English needs at least {config.min_ratio:.0%})")
    return None


def check_text(text: str, config: Config | None = None) -> tuple[str, str] | None:
    """(reason, detail) when the decoded text is not a plain-text English article, else None."""
    config = config or load_config()
    if not text.strip():
        return "empty", "only whitespace after decoding"
    controls = len(_CONTROL.findall(text))
    if controls and controls / len(text) > config.max_control_share:
        return "binary", (f"{controls} control characters in {len(text)} ({controls / len(text):.1%}, "
                          f"limit {config.max_control_share:.0%})")
    if _HTML_START.match(text):
        return "html", "HTML page (starts with <!DOCTYPE html> or <html>); plain text expected"
    tags = len(_HTML_TAG.findall(text))
    if tags >= config.html_min_tags:
        return "html", f"HTML markup: {tags} HTML tags; plain text expected"
    return check_language(text, config)


# --- the stage ----------------------------------------------------------------------------------------

def _rejection(name: str, sha256: str | None, n_bytes: int | None, reason: str, detail: str) -> dict:
    return {"file": name, "sha256": sha256, "n_bytes": n_bytes, "reason": reason, "detail": detail}


def decode_warning(n_invalid_bytes: int, encoding: str) -> str:
    return (f"{n_invalid_bytes} invalid byte(s) of an otherwise {encoding.upper().removesuffix('-SIG')} text "
            "replaced by U+FFFD")


def ingest(raw_dir: Path, max_bytes: int | None = None, config: Config | None = None, *,
           names: list[str] | None = None, manifest=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check and decode every entry of the raw folder; return (sources, rejections).

    ``names`` (names on disk) and ``manifest`` (rows, as a frame or a list of dicts): a batch's
    entries and manifest rows only (default: every entry, and ``sources.csv``); rows that name none
    of the entries are rejected as ``missing_file``.
    """
    config = config or load_config()
    max_bytes = config.max_bytes if max_bytes is None else max_bytes
    manifest = read_manifest(raw_dir) if manifest is None else _manifest_frame(manifest)
    entries = scan_raw(raw_dir, names)
    checked = {_key(r["file"]): check_manifest_row(r) for r in manifest.to_dict("records")}
    present = {_key(e.name) for e in entries}
    by_hash: dict[str, dict] = {}
    rejections = [
        _rejection(r["file"], None, None, "missing_file",
                   f"listed in {MANIFEST_NAME} but not in the raw folder"
                   + (f" (declared sha256 {r['sha256']})" if r.get("sha256") else ""))
        for r in manifest.to_dict("records") if _key(r["file"]) not in present
    ]
    for entry in entries:
        name = entry.name
        if entry.path is None:  # not read: hidden, a folder, a link out of the raw folder or to nothing, ...
            rejections.append(_rejection(name, None, None, entry.reason, entry.detail))
            continue
        meta, warnings = checked.get(_key(name), ({}, []))
        try:
            n_bytes, digest, data = read_entry(entry, max_bytes)
        except OSError as exc:
            rejections.append(_rejection(name, None, None, "unreadable", f"{type(exc).__name__}: {exc.strerror or exc}"))
            continue
        if data is None or n_bytes > max_bytes:  # (read whole: it grew since it was looked at)
            rejections.append(_rejection(name, digest, n_bytes, "too_large", f"{n_bytes} bytes > limit {max_bytes}"))
            continue
        declared = (meta.get("sha256") or "").strip()
        if declared and declared.lower() != digest:
            rejections.append(_rejection(name, digest, n_bytes, "sha256_mismatch",
                                         f"{MANIFEST_NAME} declares sha256 {declared!r}; the file's is {digest}"))
            continue
        if digest in by_hash:
            by_hash[digest]["source_files"].append(name)
            continue
        problem = check_bytes(data, config)
        text = encoding = None
        n_invalid = 0
        if problem is None:
            try:
                text, encoding, n_invalid = decode_counted(data, meta.get("encoding"), config)
            except UnicodeDecodeError as exc:
                problem = ("undecodable", str(exc))
        if problem is None:
            problem = check_text(text, config)
        if problem is not None:
            rejections.append(_rejection(name, digest, n_bytes, *problem))
            continue
        if n_invalid:
            warnings = [decode_warning(n_invalid, encoding), *warnings]
        by_hash[digest] = {
            "doc_id": doc_id_for(digest),
            "source_file": name,
            "source_files": [name],
            "sha256": digest,
            "n_bytes": n_bytes,
            "encoding": encoding,
            "n_invalid_bytes": n_invalid,
            "warnings": "; ".join(warnings) or None,
            "text": text,
            "n_chars": len(text),
            **{k: meta.get(k) for k in ("outlet", "url", "retrieved_date", "published_date", "license")},
        }
    sources = pd.DataFrame(list(by_hash.values()), columns=SOURCE_COLUMNS)
    sources["n_invalid_bytes"] = sources["n_invalid_bytes"].astype("int64")
    return sources, _rejections_frame(rejections)


def _rejections_frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=REJECTION_COLUMNS)
    df["n_bytes"] = df["n_bytes"].astype("Int64")
    return df.sort_values("file", kind="stable").reset_index(drop=True)


# --- after cleaning -----------------------------------------------------------------------------------

def reject_all_boilerplate(sources: pd.DataFrame, paragraphs: pd.DataFrame, info: pd.DataFrame,
                           rejections: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Move documents with no content paragraph after cleaning to ``rejections`` (reason
    ``all_boilerplate``, one row per source file); their paragraphs and text info go with them.

    Returns (sources, paragraphs, info, rejections) without those documents.
    """
    drop = sources[~frames.isin(sources["doc_id"], paragraphs.loc[paragraphs["status"] == "content", "doc_id"])]
    if drop.empty:
        return sources, paragraphs, info, rejections
    rows = []
    for rec in drop.to_dict("records"):
        statuses = paragraphs.loc[paragraphs["doc_id"] == rec["doc_id"], "status"].value_counts()
        found = ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) or "none"
        for name in rec["source_files"]:
            rows.append(_rejection(name, rec["sha256"], rec["n_bytes"], "all_boilerplate",
                                   f"no content paragraph after cleaning (paragraphs: {found})"))
    gone = set(drop["doc_id"])
    keep = lambda df: df[~df["doc_id"].isin(gone)].reset_index(drop=True)  # noqa: E731
    rejections = _rejections_frame(rejections.to_dict("records") + rows)
    return keep(sources), keep(paragraphs), keep(info), rejections


# --- accounting ---------------------------------------------------------------------------------------

def accounting(raw_dir: Path, sources: pd.DataFrame, rejections: pd.DataFrame,
               expected: list[str] | None = None) -> dict:
    """Compare the inputs of the raw folder (or ``expected``: a batch's) with where they ended up.

    Returns counts and the names that are unaccounted for (``missing``), accounted for more than once
    (``twice``) or unknown (``unexpected``); ``ok`` is True when all three are empty.
    """
    expected = Counter(expected_inputs(raw_dir) if expected is None else expected)
    placed = Counter(n for names in sources["source_files"] for n in names) + Counter(rejections["file"])
    missing = sorted((expected - placed).elements())
    unexpected = sorted((placed - expected).elements())
    twice = sorted(n for n, c in placed.items() if c > 1)
    n_docs_files = sum(len(v) for v in sources["source_files"])
    return {"ok": not (missing or unexpected or twice), "inputs": sum(expected.values()),
            "document_files": n_docs_files, "documents": len(sources), "rejected": len(rejections),
            "missing": missing, "unexpected": unexpected, "twice": twice}


def check_accounting(raw_dir: Path, sources: pd.DataFrame, rejections: pd.DataFrame,
                     expected: list[str] | None = None) -> dict:
    """``accounting`` that raises AccountingError unless every input is in exactly one place."""
    a = accounting(raw_dir, sources, rejections, expected)
    if not a["ok"]:
        raise AccountingError(
            f"accounting does not hold: {a['inputs']} raw inputs != {a['document_files']} document source "
            f"files + {a['rejected']} rejections; unaccounted {a['missing'][:20]}, "
            f"counted twice {a['twice'][:20]}, unknown {a['unexpected'][:20]} "
            "(did the raw folder change during the run?)")
    return a


def raw_inventory(sources: pd.DataFrame, rejections: pd.DataFrame, raw_dir: Path) -> pd.DataFrame:
    """Every raw input with its sha256, what became of it (a document, or a rejection) and whether the
    manifest lists it (``in_manifest``; a file missing from the manifest is processed all the same)."""
    manifest = read_manifest(raw_dir)
    checked = [check_manifest_row(r) for r in manifest.to_dict("records")]
    manifest = pd.DataFrame([meta for meta, _ in checked], columns=MANIFEST_COLUMNS)  # values refused: None
    manifest["warnings"] = ["; ".join(w) or None for _, w in checked]
    manifest.index = manifest["file"].map(_key)
    decoded = {}  # a document's decoding warning, for each of its files
    for names, n_invalid, encoding in frames.iter_rows(*(sources[c] for c in ("source_files", "n_invalid_bytes",
                                                                              "encoding"))):
        for name in names if n_invalid else ():
            decoded[name] = decode_warning(n_invalid, encoding)
    rows = []
    for names, sha256, n_bytes, doc_id in frames.iter_rows(*(sources[c] for c in ("source_files", "sha256",
                                                                                 "n_bytes", "doc_id"))):
        for name in names:
            rows.append((name, sha256, n_bytes, "document", doc_id))
    for name, sha256, n_bytes, reason in frames.iter_rows(*(rejections[c] for c in ("file", "sha256",
                                                                                  "n_bytes", "reason"))):
        rows.append((name, sha256, n_bytes, "rejected:" + reason, None))
    df = pd.DataFrame(rows, columns=["file", "sha256", "n_bytes", "outcome", "doc_id"])
    df["n_bytes"] = df["n_bytes"].astype("Int64")
    keys = df["file"].map(_key)
    df["in_manifest"] = keys.isin(manifest.index)
    for col in ("outlet", "url", "retrieved_date", "published_date", "license", "warnings"):
        df[col] = keys.map(manifest[col]) if len(manifest) else None
    df["warnings"] = [("; ".join(w for w in (decoded.get(name), listed) if isinstance(w, str)) or None)
                      for name, listed in zip(df["file"], df["warnings"])]
    for col in ("sha256", "doc_id", "outlet", "url", "retrieved_date", "published_date", "license", "warnings"):
        df[col] = df[col].astype(object).where(df[col].notna(), None)  # None, not NaN, for unknowns
    return df.sort_values("file").reset_index(drop=True)


def summary_markdown(rejections: pd.DataFrame, inventory: pd.DataFrame) -> str:
    """The ingest part of the run summary: counts, then every rejected input with its reason."""
    docs = inventory[inventory["outcome"] == "document"]
    not_listed = inventory.loc[~inventory["in_manifest"].astype(bool), "file"].tolist()
    lines = [f"## Ingest: {len(inventory)} inputs, {docs['doc_id'].nunique()} documents "
             f"(from {len(docs)} files), {len(rejections)} rejected", ""]
    esc = lambda s: str(s).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    if len(rejections):
        counts = rejections["reason"].value_counts()
        lines += ["Rejected by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), "",
                  "| file | reason | detail |", "|---|---|---|"]
        lines += [f"| {esc(r['file'])} | {r['reason']} | {esc(r['detail'])} |" for r in rejections.to_dict("records")]
    warned = inventory[inventory["warnings"].notna()] if "warnings" in inventory else inventory.iloc[0:0]
    if len(warned):
        lines += ["", f"Warnings ({len(warned)} inputs; also in raw_manifest.csv and documents.warnings):", "",
                  "| file | warnings |", "|---|---|"]
        lines += [f"| {esc(r['file'])} | {esc(r['warnings'])} |" for r in warned.to_dict("records")]
    if not_listed:
        lines += ["", f"Not in {MANIFEST_NAME} (processed, flagged in raw_manifest.csv): " + ", ".join(not_listed)]
    return "\n".join(lines) + "\n"
