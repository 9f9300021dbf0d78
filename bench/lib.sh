# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the bench/*.sh scripts that drive build/mockd: starting and
# stopping mocks, timing a command, verdicts, and the summary table's lines.
# The script sets work (its scratch directory), BUILD, and the key the mock
# takes in MOCK_KEY before sourcing this.

: "${work:?}" "${BUILD:?}"
url=

mock_pids=
stop_all() {
	for pid in $mock_pids; do
		kill "$pid" 2>/dev/null || true
	done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# start_mock NAME LIFETIME [mockd options]: start build/mockd; sets url, mock_pid.
start_mock() {
	name=$1 lifetime=$2
	shift 2
	rm -f "$work/$name.port"
	"$BUILD/mockd" -q --port-file "$work/$name.port" --key "${MOCK_KEY:?}" \
		--lifetime "$lifetime" "$@" &
	mock_pid=$!
	mock_pids="$mock_pids $mock_pid"
	while [ ! -s "$work/$name.port" ]; do
		kill -0 "$mock_pid" 2>/dev/null || { echo "bench: mockd did not start" >&2; exit 1; }
		sleep 0.05
	done
	url=http://127.0.0.1:$(cat "$work/$name.port")
}

stop_mock() {
	kill "$mock_pid" 2>/dev/null || true
	wait "$mock_pid" 2>/dev/null || true
}

# run OUT CMD...: run CMD (a command or a function of this script) in a
# subshell, standard output to OUT and standard error to OUT.err; prints
# "wall user+sys" in seconds: the CPU time of CMD and all its children, from
# the subshell's `times` (a forked subshell starts from zero).
run() {
	out=$1
	shift
	start=$(date +%s.%N)
	cpu=$( ("$@" >"$out" 2>"$out.err"; rc=$?; times; exit "$rc")) ||
		{ echo "bench: failed: $*" >&2; cat "$out.err" >&2; exit 1; }
	end=$(date +%s.%N)
	# times prints two lines of "0m0.120000s 0m0.010000s" (user, system): the
	# shell's own, then its children's.
	echo "$cpu" | awk -v a="$start" -v b="$end" '
		{ for (i = 1; i <= NF; i++) { split($i, v, /[ms]/); cpu += v[1] * 60 + v[2] } }
		END { printf "%.4f %.4f\n", b - a, cpu }'
}

# best "WALL CPU" "WALL CPU": the run with the smaller wall time (the first may be empty).
best() {
	if [ -z "$1" ]; then
		echo "$2"
	else
		printf '%s\n%s\n' "$1" "$2" | sort -n | head -n 1
	fi
}

# verdict VALUE OP TARGET: "met" or "NOT met".
verdict() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = op == ">=" ? v >= t : v < t
		print ok ? "met" : "NOT met"
	}'
}

# count_ok FILE PATTERN: how many times PATTERN occurs in FILE (the curls
# share one output file, so their answers may share lines).
count_ok() {
	grep -o -e "$2" "$1" | wc -l | tr -d ' '
}

# rate_fidelity LOG ROUTE RPM OK N "WALL CPU" TOOL: from the mock's log, the
# answered requests of ROUTE: their rate over the span from the first to the
# last (n - 1 intervals) as a share of RPM (target >= 95%), and the share of
# 429s (target < 1%). Prints the report; sets share and limited (percent).
rate_fidelity() {
	figures=$(awk -v route="\"route\":\"$2\"" -v rpm="$3" -v ok="$4" -v n="$5" -v m="$6" -v tool="$7" '
		index($0, route) {
			match($0, /"t":[0-9.]+/); t = substr($0, RSTART + 4, RLENGTH - 4) + 0
			all++
			if ($0 ~ /"status":429/) { limited++; next }
			if ($0 ~ /"status":200/) {
				if (good == 0) first = t
				last = t; good++
			}
		}
		END {
			split(m, w, " ")
			rate = good > 1 ? (good - 1) * 60000 / (last - first) : 0
			share = rate / rpm * 100
			lim = all > 0 ? limited / all * 100 : 0
			printf "%s: %d of %d records answered in %.1f s (%.0f records/min end to end)\n", tool, ok, n, w[1], ok / w[1] * 60
			printf "mock: %d requests, %d answered 200, %d got 429\n", all, good, limited + 0
			printf "achieved rate: %.1f requests/min = %.1f%% of %d (target >= 95%%: %s)\n", rate, share, rpm, (share >= 95 ? "met" : "NOT met")
			printf "429s:          %.2f%% of the requests (target < 1%%: %s)\n", lim, (lim < 1 ? "met" : "NOT met")
			printf "%.1f %.2f\n", share, lim
		}' "$1")
	echo "$figures" | sed '$d'
	share=$(echo "$figures" | tail -n 1 | cut -d' ' -f1)
	limited=$(echo "$figures" | tail -n 1 | cut -d' ' -f2)
}

# ratio A B: A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

# summary TOOL FIGURE VALUE PEER PEER_VALUE RATIO TARGET: one line of `make
# bench`'s table, appended to $BENCH_SUMMARY when it is set.
summary() {
	if [ -n "${BENCH_SUMMARY:-}" ]; then
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_SUMMARY"
	fi
}
