#!/usr/bin/env python3
"""Lays out fuzz/corpus/<target>/ from the repository's config and migrations, the real
upstream objects in ../shared/fixtures/real (YAML turned into the JSON the API sends;
timestamps stay strings as on the wire), and the hand-written seeds in fuzz/seeds/.
Run from the repository root: python3 fuzz/seeds/make_corpus.py. Files over 16 KB are
left out (the fuzzer mutates small inputs best)."""

import hashlib
import json
import pathlib
import shutil

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "fixtures" / "real"
CORPUS = ROOT / "fuzz" / "corpus"
SEEDS = ROOT / "fuzz" / "seeds"
MAX = 16 * 1024


class WireLoader(yaml.SafeLoader):
    """Unquoted timestamps stay strings, as the API server sends them."""


WireLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX:
        return
    out = CORPUS / target
    out.mkdir(parents=True, exist_ok=True)
    (out / name).write_bytes(data)


def wire_json(path):
    if path.suffix == ".json":
        return json.loads(path.read_text())
    return yaml.load(path.read_text(), Loader=WireLoader)


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    for path in sorted((ROOT / "config").rglob("*.yaml")) + sorted((ROOT / "themes").glob("*.yaml")):
        put("config_yaml", path.relative_to(ROOT).as_posix().replace("/", "--"), path.read_bytes())
    for path in sorted((ROOT / "migrations").glob("*.sql")):
        put("sqllint", path.name, path.read_bytes())
    for path in sorted(REAL.rglob("*")):
        if path.suffix not in (".yaml", ".json"):
            continue
        obj = wire_json(path)
        name = path.parent.name + "--" + path.stem + ".json"
        text = json.dumps(obj, separators=(",", ":"))
        put("wire_kube", name, text)
        if obj.get("kind") == "Application":
            put("wire_http", name, text)
            envelope = {"result": {"type": "MODIFIED", "application": obj}}
            put("wire_http", "stream--" + name, "data: " + json.dumps(envelope, separators=(",", ":")) + "\n\n")
    for target_dir in sorted(p for p in SEEDS.iterdir() if p.is_dir()):
        for path in sorted(target_dir.iterdir()):
            put(target_dir.name, path.name, path.read_bytes())
    for target in sorted(CORPUS.iterdir()):
        files = list(target.iterdir())
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(files))).hexdigest()[:12]
        print(f"{target.name}: {len(files)} seeds ({digest})")


main()
