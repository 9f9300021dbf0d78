# SPDX-License-Identifier: BSD-2-Clause
# jlkit shell test library, in the manner of git's t/test-lib.sh.
#
# A test script sets test_description, sources this file from the tests/
# directory, runs test_expect_success blocks and ends with test_done:
#
#	test_description='what this script checks'
#	. ./lib.sh
#	test_expect_success 'a title' '
#		jl-csv in.csv >out &&
#		test_cmp expect out
#	'
#	test_done
#
# Every script runs in its own scratch directory, tests/trash.<script>,
# removed when all its tests pass and kept for inspection when one fails.
# Options: -v (show the commands' output), -i (stop at the first failure).
# Output is TAP; the counts go to $TEST_RESULTS/<script>.counts.

TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$TEST_DIRECTORY/.." && pwd)}
BUILD=${BUILD:-$SRCDIR/build}
TEST_RESULTS=${TEST_RESULTS:-$BUILD/test-results}
this_test=$(basename "$0" .sh)

verbose=
immediate=
for arg in "$@"; do
	case $arg in
	-v | --verbose) verbose=t ;;
	-i | --immediate) immediate=t ;;
	*) echo "usage: $0 [-v] [-i]" >&2; exit 64 ;;
	esac
done

# A predictable environment: no locale surprises, no keys or state from the caller.
LC_ALL=C
TZ=UTC
export LC_ALL TZ
unset LANG LANGUAGE JL_DB JL_MODEL
unset OPENAI_API_KEY GROQ_API_KEY OPENROUTER_API_KEY TOGETHER_API_KEY ANTHROPIC_API_KEY
unset TAVILY_API_KEY BRAVE_API_KEY SERPER_API_KEY EXA_API_KEY
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

if [ ! -x "$BUILD/jl-csv" ] || [ ! -x "$BUILD/mockd" ]; then
	echo "Bail out! no binaries in $BUILD: run 'make' first"
	exit 1
fi
PATH=$BUILD:$PATH
if [ -n "$TEST_VALGRIND" ]; then
	PATH=$BUILD/valgrind-bin:$PATH
fi
export PATH BUILD SRCDIR TEST_DIRECTORY

test_count=0
test_passed=0
test_failed=0
test_fixed=0
test_broken=0
test_skipped=0
test_cleanup=

TRASH_DIRECTORY=$TEST_DIRECTORY/trash.$this_test
rm -rf "$TRASH_DIRECTORY"
mkdir -p "$TRASH_DIRECTORY" "$TEST_RESULTS" || exit 1
cd "$TRASH_DIRECTORY" || exit 1
HOME=$TRASH_DIRECTORY
export HOME
# The state processes share (the limiter, the stages published for jl-top):
# private to this script, so that no test sees another one's stages.
XDG_RUNTIME_DIR=$TRASH_DIRECTORY/run
mkdir -p "$XDG_RUNTIME_DIR"
export XDG_RUNTIME_DIR

if [ -n "$verbose" ]; then
	exec 4>&2 3>&1
else
	exec 4>/dev/null 3>/dev/null
fi

say() {
	printf '%s\n' "$*"
}

# --- prerequisites -------------------------------------------------------

satisfied_prereq=' '
missing_prereq=
test_set_prereq() {
	satisfied_prereq="$satisfied_prereq$1 "
}

# test_lazy_prereq NAME 'script': NAME holds when script succeeds (checked once).
lazy_prereqs=
test_lazy_prereq() {
	lazy_prereqs="$lazy_prereqs $1"
	eval "lazy_prereq_script_$1=\$2"
}

test_have_prereq() {
	for p in $(echo "$1" | tr ',' ' '); do
		case $satisfied_prereq in *" $p "*) continue ;; esac
		case " $lazy_prereqs " in
		*" $p "*)
			script=
			eval "script=\$lazy_prereq_script_$p"
			if (eval "$script") >/dev/null 2>&1; then
				test_set_prereq "$p"
				lazy_prereqs=$(echo " $lazy_prereqs " | sed "s/ $p / /")
				continue
			fi
			;;
		esac
		missing_prereq=$p
		return 1
	done
	return 0
}

test_lazy_prereq PYTHON3 'command -v python3 && python3 -c "import csv, json"'
test_lazy_prereq MLR 'command -v mlr'
test_lazy_prereq MANDOC 'command -v mandoc'
test_lazy_prereq CLANG 'command -v clang'
test_lazy_prereq VALGRIND 'command -v valgrind'
test_lazy_prereq JQ 'command -v jq'
test_lazy_prereq EXPENSIVE 'test -n "$JLKIT_TEST_EXPENSIVE"'
test_lazy_prereq NOT_ROOT 'test "$(id -u)" -ne 0'
test_lazy_prereq DEV_FULL 'test -c /dev/full'
test_lazy_prereq CURL 'command -v curl'
test_lazy_prereq WRK 'command -v wrk'
test_lazy_prereq TMUX 'command -v tmux'
# Memory figures mean something only without a sanitizer's shadow memory and quarantine.
test_lazy_prereq UNSANITIZED '! grep -q __asan_init "$BUILD/jl-csv"'
if [ -z "$TEST_VALGRIND" ]; then
	test_set_prereq NO_VALGRIND
fi

# --- running tests -------------------------------------------------------

test_when_finished() {
	test_cleanup="{ $*
	} && (exit \"\$eval_ret\"); eval_ret=\$?; $test_cleanup"
}

test_run_() {
	test_cleanup=:
	eval >&3 2>&4 "$1"
	eval_ret=$?
	eval >&3 2>&4 "$test_cleanup"
	return "$eval_ret"
}

test_ok_() {
	test_passed=$((test_passed + 1))
	say "ok $test_count - $1"
}

test_failure_() {
	test_failed=$((test_failed + 1))
	say "not ok $test_count - $1"
	printf '%s\n' "$2" | sed 's/^/#\t/'
	if [ -n "$immediate" ]; then
		test_done_
		exit 1
	fi
}

# test_start_ [PREREQ] 'title' 'body': count a test, or skip it when a
# prerequisite is missing (returns 1). Sets test_title_ and test_body_.
test_start_() {
	if [ $# = 3 ]; then
		if ! test_have_prereq "$1"; then
			test_count=$((test_count + 1))
			test_skipped=$((test_skipped + 1))
			say "ok $test_count # skip $2 (missing $missing_prereq)"
			return 1
		fi
		shift
	fi
	test_count=$((test_count + 1))
	test_title_=$1
	test_body_=$2
}

# test_expect_success [PREREQ] 'title' 'body'
test_expect_success() {
	test_start_ "$@" || return 0
	if [ -n "$verbose" ]; then
		say "expecting success: $test_body_"
	fi
	if test_run_ "$test_body_"; then
		test_ok_ "$test_title_"
	else
		test_failure_ "$test_title_" "$test_body_"
	fi
}

# test_expect_failure [PREREQ] 'title' 'body': a known breakage.
test_expect_failure() {
	test_start_ "$@" || return 0
	if test_run_ "$test_body_"; then
		test_fixed=$((test_fixed + 1))
		say "ok $test_count - $test_title_ # TODO known breakage vanished"
	else
		test_broken=$((test_broken + 1))
		say "not ok $test_count - $test_title_ # TODO known breakage"
	fi
}

# --- assertions ----------------------------------------------------------

# test_expect_code N cmd...: cmd must exit with status N.
test_expect_code() {
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" = "$want" ]; then
		return 0
	fi
	echo >&4 "test_expect_code: command exited with $got, we wanted $want: $*"
	return 1
}

# test_must_fail cmd...: cmd must fail, but not by a signal or a valgrind error.
test_must_fail() {
	"$@"
	got=$?
	if [ "$got" = 0 ]; then
		echo >&4 "test_must_fail: command succeeded: $*"
		return 1
	elif [ "$got" -gt 128 ] && [ "$got" -le 192 ]; then
		echo >&4 "test_must_fail: killed by signal $((got - 128)): $*"
		return 1
	elif [ "$got" = 126 ] || [ "$got" = 127 ]; then
		echo >&4 "test_must_fail: valgrind error or command not found ($got): $*"
		return 1
	fi
	return 0
}

# test_cmp expected actual
test_cmp() {
	diff -u "$@" >&4
}

# test_line_count OP N file: e.g. test_line_count = 3 out
test_line_count() {
	if [ $# != 3 ]; then
		echo >&4 "usage: test_line_count OP N file"
		return 1
	fi
	n=$(wc -l <"$3")
	if ! test "$n" "$1" "$2"; then
		echo >&4 "test_line_count: line count of $3 is $n, not $1 $2"
		cat >&4 "$3"
		return 1
	fi
}

# test_must_be_empty file
test_must_be_empty() {
	if [ -s "$1" ]; then
		echo >&4 "'$1' is not empty:"
		cat >&4 "$1"
		return 1
	fi
}

# test_grep [-v] PATTERN file: grep that shows the file when it fails.
test_grep() {
	if [ "$1" = -v ]; then
		shift
		if grep -e "$1" "$2" >/dev/null; then
			echo >&4 "test_grep: '$1' found in $2:"
			cat >&4 "$2"
			return 1
		fi
		return 0
	fi
	if ! grep -e "$1" "$2" >/dev/null; then
		echo >&4 "test_grep: '$1' not found in $2:"
		cat >&4 "$2"
		return 1
	fi
}

# json_lines_valid file: every line parses as one JSON object (needs test-tool).
json_lines_valid() {
	test-tool json-check <"$1" >&4
}

# --- the mock server -----------------------------------------------------

mock_count=0
mock_pids=
# mock_start [mockd options]: start build/mockd on a free loopback port, with
# a log; sets MOCK_URL, MOCK_PORT, MOCK_LOG and MOCK_PID. Every mock started
# is stopped by test_done (or when the script exits).
mock_start() {
	mock_count=$((mock_count + 1))
	mock_dir=$TRASH_DIRECTORY/mock$mock_count
	mkdir -p "$mock_dir" || return 1
	MOCK_LOG=$mock_dir/log
	mockd --port-file "$mock_dir/port" --log "$MOCK_LOG" --lifetime 300 "$@" \
		2>"$mock_dir/stderr" &
	MOCK_PID=$!
	mock_pids="$mock_pids $MOCK_PID"
	mock_wait=0
	while [ ! -s "$mock_dir/port" ]; do
		if ! kill -0 "$MOCK_PID" 2>/dev/null; then
			echo >&4 "mock_start: mockd exited:"
			cat >&4 "$mock_dir/stderr"
			return 1
		fi
		mock_wait=$((mock_wait + 1))
		if [ "$mock_wait" -gt 1000 ]; then
			echo >&4 "mock_start: no port after 10 s"
			return 1
		fi
		sleep 0.01
	done
	MOCK_PORT=$(cat "$mock_dir/port")
	MOCK_URL=http://127.0.0.1:$MOCK_PORT
}

# mock_stop: stop the mock started last and wait for it.
mock_stop() {
	kill "$MOCK_PID" 2>/dev/null
	wait "$MOCK_PID" 2>/dev/null
	return 0
}

mock_stop_all_() {
	for pid in $mock_pids; do
		kill "$pid" 2>/dev/null
	done
	mock_pids=
}
trap 'mock_stop_all_' EXIT

# --- the end -------------------------------------------------------------

test_skip_all() {
	say "1..0 # SKIP $1"
	test_skipped=1
	test_done_
	exit 0
}

test_done_() {
	printf 'passed %d\nfailed %d\nskipped %d\nbroken %d\n' \
		"$test_passed" "$test_failed" "$test_skipped" "$test_broken" \
		>"$TEST_RESULTS/$this_test.counts"
}

test_done() {
	mock_stop_all_
	say "1..$test_count"
	test_done_
	cd "$TEST_DIRECTORY" || exit 1
	if [ "$test_failed" = 0 ]; then
		rm -rf "$TRASH_DIRECTORY"
		exit 0
	fi
	say "# failed $test_failed among $test_count test(s); scratch kept in $TRASH_DIRECTORY"
	exit 1
}
