#!/usr/bin/env bash
# Fresh-machine check: clones this repository (committed HEAD) into a temporary folder and runs
# the README's opening commands as written there (the npm install into a private prefix).
#   tasks/fresh_check.sh              both commands (reproduce, then test)
#   tasks/fresh_check.sh --test-only  only the test command (what .ci/run uses)
#   tasks/fresh_check.sh --keep       keep the temporary clone
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
mode=all keep=0
for a in "$@"; do
  case "$a" in
    --test-only) mode=test ;;
    --reproduce-only) mode=reproduce ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "fresh_check: unknown option $a" >&2; exit 2 ;;
  esac
done
# The README's first fenced block holds the commands (comments after '#' are dropped): an optional
# `npm install --global deno@…` line, then reproduce, then test.
mapfile -t cmds < <(awk '/^```/{n++; next} n==1' "$repo/README.md" | sed 's/[[:space:]]*#.*$//' | sed '/^[[:space:]]*$/d')
install=""
case "${cmds[0]:-}" in "npm install --global deno@"*) install="${cmds[0]}"; cmds=("${cmds[@]:1}") ;; esac
if [ "${#cmds[@]}" -ne 2 ]; then
  echo "fresh_check: expected 2 commands after the install line in the README's first code block, found ${#cmds[@]}" >&2
  exit 1
fi
reproduce="${cmds[0]}" test="${cmds[1]}"
case "$reproduce" in *"task reproduce"*) ;; *) echo "fresh_check: first command is not 'task reproduce': $reproduce" >&2; exit 1 ;; esac
case "$test" in *"task test"*) ;; *) echo "fresh_check: second command is not 'task test': $test" >&2; exit 1 ;; esac
tmp="$(mktemp -d /tmp/somscope-fresh.XXXXXX)"
[ "$keep" = 1 ] || trap 'rm -rf "$tmp"' EXIT
git clone -q "$repo" "$tmp/somscope"
cd "$tmp/somscope"
echo "fresh_check: clone at $tmp/somscope ($(git rev-parse --short HEAD))"
if [ -n "$install" ]; then
  # Into a private prefix (nothing global changes); its bin goes first on PATH.
  echo "fresh_check: \$ $install --prefix $tmp/npm"
  bash -c "$install --prefix '$tmp/npm'" >/dev/null
  export PATH="$tmp/npm/bin:$PATH"
fi
if [ "$mode" != test ]; then
  echo "fresh_check: \$ $reproduce"
  bash -c "$reproduce"
fi
if [ "$mode" != reproduce ]; then
  echo "fresh_check: \$ $test"
  bash -c "$test"
fi
echo "fresh_check: ok"
