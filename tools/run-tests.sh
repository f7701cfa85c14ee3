#!/usr/bin/env bash
# Runs every suite twice, on PostgreSQL and on SQLite, in parallel, and meanwhile checks what each service's image
# would contain; then the manifest checks. Fails if any of them fails. Each suite runs on two xdist workers, each with
# its own real broker; `--dist loadfile` keeps a file's tests on one worker, so a module's shared stack starts once.
# The tests mostly wait on consumers, so four workers on the 2 cores take about half the time of two.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p build
CMS_TEST_DATABASE=postgres $PY -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=12 > build/test-postgres.log 2>&1 &
pg=$!
CMS_TEST_DATABASE=sqlite $PY -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=12 > build/test-sqlite.log 2>&1 &
lite=$!
tools/check-runtime.sh > build/check-runtime.log 2>&1 &
runtime=$!
wait $pg; pg_rc=$?
wait $lite; lite_rc=$?
wait $runtime; runtime_rc=$?
echo "=== PostgreSQL run ==="; tail -n 60 build/test-postgres.log
echo "=== SQLite run ==="; tail -n 60 build/test-sqlite.log
echo "=== runtime images ==="; cat build/check-runtime.log
k8s_rc=0
tools/k8s-validate.sh > build/k8s-validate.log 2>&1 || k8s_rc=$?
echo "=== manifests ==="; tail -n 3 build/k8s-validate.log
if [ $pg_rc -ne 0 ] || [ $lite_rc -ne 0 ] || [ $runtime_rc -ne 0 ] || [ $k8s_rc -ne 0 ]; then
  echo "FAILED: postgres=$pg_rc sqlite=$lite_rc runtime=$runtime_rc manifests=$k8s_rc"
  exit 1
fi
