#!/usr/bin/env bash
# What action.yml runs: install async-lint from the action's checkout, then `async-lint check`.
#
#   INPUT_ARGS              paths and options, split on whitespace (default ".")
#   INPUT_OUTPUT_FORMAT     --output-format (default github: annotations); empty: not passed
#   ASYNC_LINT_ACTION_PATH  the action's checkout, pip-installed (default: the folder above this script)
#   ASYNC_LINT_PYTHON       the interpreter (default: python, which actions/setup-python put on PATH)
#   ASYNC_LINT_INSTALL=0    skip the install (async-lint is already installed for ASYNC_LINT_PYTHON): how the
#                           tests run this script locally, without a network
#
# The exit code is async-lint's: 0 clean, 1 findings (the step fails), 2 an error.
set -euo pipefail

python="${ASYNC_LINT_PYTHON:-python}"
action_path="${ASYNC_LINT_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
format="${INPUT_OUTPUT_FORMAT-github}"

if [ "${ASYNC_LINT_INSTALL:-1}" != 0 ]; then
  "$python" -m pip install --disable-pip-version-check --quiet "$action_path"
fi

set -f  # the args are split on whitespace, never globbed
# shellcheck disable=SC2086
set -- ${INPUT_ARGS:-.}
if [ -n "$format" ]; then
  set -- --output-format "$format" "$@"
fi
exec "$python" -m async_lint check "$@"
