#!/usr/bin/env bash
# Set up and run the whole test suite: the README's second command; .ci/run calls it too.
# 1. installs the system programs the peer and browser tests need (R with spdep/spatialreg, Chromium, a CJK font)
#    from Debian's packages when they are missing (as root, or through sudo);
# 2. creates .venv/ at the repository root and installs geo with its test extra;
# 3. runs pytest on tests/ (extra arguments are passed to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v Rscript >/dev/null 2>&1 || ! Rscript -e 'suppressMessages({library(spdep); library(spatialreg); library(jsonlite); library(spData)})' >/dev/null 2>&1; then
  missing+=(r-base-core r-cran-spdep r-cran-spatialreg r-cran-jsonlite r-cran-spdata)
fi
if ! command -v chromium >/dev/null 2>&1; then
  missing+=(chromium)
fi
# a CJK font, so screenshots (PNG export) show Chinese names instead of empty boxes
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
  missing+=(fonts-wqy-zenhei)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  fi
  if [ "$sudo" = "none" ]; then
    echo "tests/run.sh: cannot install ${missing[*]} (not root, no sudo); peer/browser tests will be skipped" >&2
  else
    echo "tests/run.sh: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test]"

if [ -n "${CI:-}" ]; then
  export GEO_REQUIRE_PEERS=1   # in CI a missing R or Chromium is a failure, not a skip
fi
export PYTHONHASHSEED=0
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
