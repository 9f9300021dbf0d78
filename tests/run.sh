#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Run every test: the C unit tests, then the shell scripts t[0-9]*.sh two at
# a time, then print the totals (tests/aggregate.sh). Called by `make check`
# with BUILD and SRCDIR set. TEST_JOBS sets the parallelism.
set -u
SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
TEST_RESULTS=$BUILD/test-results
TEST_JOBS=${TEST_JOBS:-2}
export SRCDIR BUILD TEST_RESULTS

rm -rf "$TEST_RESULTS"
mkdir -p "$TEST_RESULTS"

# Under `make check-valgrind` the tools run through wrappers that fail with 126.
if [ -n "${TEST_VALGRIND:-}" ]; then
	mkdir -p "$BUILD/valgrind-bin"
	for tool in "$BUILD"/jl-*; do
		name=$(basename "$tool")
		cat >"$BUILD/valgrind-bin/$name" <<WRAP
#!/bin/sh
exec valgrind -q --error-exitcode=126 --leak-check=full --errors-for-leak-kinds=definite \\
	--show-leak-kinds=definite "$tool" "\$@"
WRAP
		chmod +x "$BUILD/valgrind-bin/$name"
	done
fi

# C unit tests print TAP; count their results the way lib.sh does.
for unit in "$BUILD"/tests/unit/test_*; do
	[ -x "$unit" ] || continue
	name=unit-$(basename "$unit")
	if [ -n "${TEST_VALGRIND:-}" ]; then
		set -- valgrind -q --error-exitcode=126 --leak-check=full "$unit"
	else
		set -- "$unit"
	fi
	"$@" >"$TEST_RESULTS/$name.out" 2>&1
	rc=$?
	passed=$(grep -c '^ok ' "$TEST_RESULTS/$name.out")
	skipped=$(grep -c '^ok .*# skip' "$TEST_RESULTS/$name.out")
	failed=$(grep -c '^not ok ' "$TEST_RESULTS/$name.out")
	if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then
		failed=1 # crashed or bad plan
	fi
	printf 'passed %d\nfailed %d\nskipped %d\nbroken 0\n' \
		"$((passed - skipped))" "$failed" "$skipped" >"$TEST_RESULTS/$name.counts"
	if [ "$failed" != 0 ]; then
		echo "$name: FAILED (exit $rc)"
		cat "$TEST_RESULTS/$name.out"
	else
		echo "$name: ok"
	fi
done

# Shell tests, TEST_JOBS at a time; each one's TAP goes to its .out file.
cd "$SRCDIR/tests" || exit 1
printf '%s\n' t[0-9]*.sh | xargs -P "$TEST_JOBS" -I{} sh -c '
	script=$1
	name=${script%.sh}
	if sh "./$script" >"$TEST_RESULTS/$name.out" 2>&1; then
		echo "$name: ok"
	else
		echo "$name: FAILED"
		cat "$TEST_RESULTS/$name.out"
		[ -f "$TEST_RESULTS/$name.counts" ] ||
			printf "passed 0\nfailed 1\nskipped 0\nbroken 0\n" >"$TEST_RESULTS/$name.counts"
	fi
' sh {}

exec sh "$SRCDIR/tests/aggregate.sh" "$TEST_RESULTS"
