#!/usr/bin/env bash
# Proto toolchain, offline: codegen into gen/python (with the descriptor set), buf lint, and the drift check.
#   tools/protos.sh generate   regenerate gen/python/cms (code and descriptors.binpb), docs/api and
#                              docs/events/asyncapi.yaml from protos/
#   tools/protos.sh descriptors  the same (make descriptors)
#   tools/protos.sh lint       buf lint over an image built by protoc (googleapis imports come from the wheel)
#   tools/protos.sh baseline   record the released contract (protos/baseline/image.binpb), at a release
#   tools/protos.sh breaking   buf breaking against that baseline
#   tools/protos.sh check      regenerate into a temp dir and fail if any of those differs (drift)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BIN=$(dirname "$PY")
SP=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
PROTOS=$(cd protos && find cms -name '*.proto' | LC_ALL=C sort)

gen_into() {
  local out=$1
  mkdir -p "$out"
  # protoc-gen-mypy / protoc-gen-mypy_grpc live in the venv's bin.
  (cd protos && PATH="$OLDPWD/$BIN:$PATH" "$OLDPWD/$PY" -m grpc_tools.protoc -I. -I"$SP" \
      --python_out="$out" --grpc_python_out="$out" \
      --mypy_out=quiet:"$out" --mypy_grpc_out=quiet:"$out" $PROTOS)
  # The contracts with their comments, for reflection (cms_platform.reflection), `grpcurl -protoset` and the API
  # reference; imports included so the set stands alone.
  (cd protos && "$OLDPWD/$PY" -m grpc_tools.protoc -I. -I"$SP" --include_imports --include_source_info \
      --descriptor_set_out="$out/cms/descriptors.binpb" $PROTOS)
  # Namespace packages need no __init__.py; empty ones keep tools (mypy, setuptools) happy.
  find "$out/cms" -type d -exec touch {}/__init__.py \;
}

# The API reference (docs/api) from a descriptor set; the AsyncAPI document from the event contracts.
api_into() {
  "$PY" tools/api_reference.py "$2" "$1"
}

case "${1:-}" in
  generate|descriptors)
    rm -rf gen/python/cms
    gen_into "$PWD/gen/python"
    api_into gen/python/cms/descriptors.binpb docs/api
    "$PY" tools/asyncapi.py docs/events/asyncapi.yaml
    ;;
  check)
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    gen_into "$tmp"
    if ! diff -r -q "$tmp/cms" gen/python/cms; then
      echo "gen/python is out of date with protos/: run 'make proto' and commit the result." >&2
      exit 1
    fi
    api_into "$tmp/cms/descriptors.binpb" "$tmp/api"
    if ! diff -r -q "$tmp/api" docs/api; then
      echo "docs/api is out of date with protos/: run 'make descriptors' and commit the result." >&2
      exit 1
    fi
    "$PY" tools/asyncapi.py "$tmp/asyncapi.yaml"
    if ! diff -q "$tmp/asyncapi.yaml" docs/events/asyncapi.yaml; then
      echo "docs/events/asyncapi.yaml is out of date with protos/: run 'make proto' and commit the result." >&2
      exit 1
    fi
    echo "generated code, docs/api and docs/events/asyncapi.yaml match protos/"
    ;;
  lint)
    # Optional second argument limits the check to one package, e.g. `lint cms/hmrc`.
    scope=${2:-cms}
    files=$(cd protos && find "$scope" -name '*.proto' | LC_ALL=C sort)
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    (cd protos && "$OLDPWD/$PY" -m grpc_tools.protoc -I. -I"$SP" --include_imports --include_source_info \
        --descriptor_set_out="$tmp/image.binpb" $files)
    tools/buf/node_modules/.bin/buf lint "$tmp/image.binpb" --config protos/buf.yaml --path "$scope"
    echo "buf lint: clean"
    ;;
  baseline)
    # At a release: the contract as released, which `breaking` compares against (protos/baseline/README.md).
    mkdir -p protos/baseline
    (cd protos && "$OLDPWD/$PY" -m grpc_tools.protoc -I. -I"$SP" --include_imports \
        --descriptor_set_out="$OLDPWD/protos/baseline/image.binpb" $PROTOS)
    echo "protos/baseline/image.binpb: the released contract"
    ;;
  breaking)
    # Nothing released may break (protos/buf.yaml `breaking`: wire and JSON compatibility).
    tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
    (cd protos && "$OLDPWD/$PY" -m grpc_tools.protoc -I. -I"$SP" --include_imports \
        --descriptor_set_out="$tmp/image.binpb" $PROTOS)
    tools/buf/node_modules/.bin/buf breaking "$tmp/image.binpb" --against protos/baseline/image.binpb \
        --config protos/buf.yaml --path cms
    echo "buf breaking: no breaking change against protos/baseline"
    ;;
  *) echo "usage: $0 generate|descriptors|check|lint|baseline|breaking" >&2; exit 2 ;;
esac
