#!/usr/bin/env bash
# npm run test:parity: the service held against Hugging Face transformers, torch and Python's jinja2.
#
# The Python side lives in .venv-parity (git-ignored), made from scripts/requirements-parity.txt the
# first time and again whenever that file changes (its hash is kept in the venv). Every run then
# executes test/parity/*.test.ts with node's test runner, PARITY_PYTHON naming the venv's python.
# npm test never needs any of this.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-parity
requirements=scripts/requirements-parity.txt
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/requirements.sha256" 2>/dev/null)" != "$want" ]; then
  started=$(date +%s)
  rm -rf "$venv"
  "${PARITY_BASE_PYTHON:-python3}" -m venv "$venv"
  # --retries 0: where only the local mirror answers, an unreachable index fails at once instead of
  # backing off five times per package.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --retries 0 -r "$requirements"
  echo "$want" > "$venv/requirements.sha256"
  echo "test:parity: created $venv from $requirements in $(( $(date +%s) - started )) s"
fi

export PARITY_PYTHON="$PWD/$venv/bin/python"
npm run --silent ensure-model
exec node --import tsx --test --test-concurrency=1 test/parity/*.test.ts
