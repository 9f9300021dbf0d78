#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `make lint`: formatting, static analysis, shell scripts, man pages and the
# banned-function list. Each check runs when its tool is installed (make deps
# installs them all) and says so when it is skipped.
set -u
cd "$(dirname "$0")/.." || exit 1
status=0
fail() {
	echo "lint: $*" >&2
	status=1
}

c_files=$(git ls-files '*.c' '*.h' 2>/dev/null || find common tools tests bench -name '*.[ch]')
sh_files=$(git ls-files 'tests/*.sh' 'bench/*.sh' 'examples/*.sh' .ci/run 2>/dev/null)

# Functions that invite overflows or hide errors (doc/style.md §8).
banned='\<(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|tmpnam|mktemp|system)[[:space:]]*\('
# shellcheck disable=SC2086
if grep -nE "$banned" $c_files; then
	fail "banned function used (above)"
fi

if command -v clang-format >/dev/null; then
	# shellcheck disable=SC2086
	clang-format --dry-run -Werror $c_files || fail "clang-format: run clang-format -i on the files above"
else
	echo "lint: clang-format not installed, skipped"
fi

if command -v cppcheck >/dev/null; then
	tool_incs=
	for t in tools/*/; do
		tool_incs="$tool_incs -I${t%/}"
	done
	# shellcheck disable=SC2086
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
		--inline-suppr --suppress=missingIncludeSystem -Icommon $tool_incs \
		common tools tests/mock || fail "cppcheck"
else
	echo "lint: cppcheck not installed, skipped"
fi

if command -v shellcheck >/dev/null; then
	# lib.sh is sourced; the scripts eval test bodies written in single quotes.
	# shellcheck disable=SC2086
	shellcheck -s sh -e SC2016,SC2034,SC1090,SC1091,SC2317 $sh_files || fail "shellcheck"
else
	echo "lint: shellcheck not installed, skipped"
fi

if command -v mandoc >/dev/null; then
	mandoc -Tlint -Wwarning man/*.1 man/*.7 || fail "mandoc -Tlint"
else
	echo "lint: mandoc not installed, skipped"
fi

exit $status
