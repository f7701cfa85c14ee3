#!/usr/bin/env bash
# Best effort: put Prometheus's promtool next to the venv's python so tests/monitoring runs the alerts through
# Prometheus's own rule evaluator. It comes from the Debian package (no root needed: download and unpack); where
# apt is missing or fails the tests that need it skip and say so.
set -uo pipefail
dest="${1:?usage: tools/promtool.sh <bin dir>}"
[ -x "$dest/promtool" ] && exit 0
command -v promtool >/dev/null 2>&1 && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "promtool: no apt-get here; the promtool tests will skip"; exit 0; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if (cd "$work" && apt-get download -q prometheus >/dev/null 2>&1) \
  && dpkg-deb -x "$work"/prometheus_*.deb "$work/x" && [ -x "$work/x/usr/bin/promtool" ]; then
  cp "$work/x/usr/bin/promtool" "$dest/promtool"
  echo "promtool: installed in $dest"
else
  echo "promtool: could not fetch Debian's prometheus package; the promtool tests will skip"
fi
exit 0
