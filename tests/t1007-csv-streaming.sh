#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv streaming: SIGPIPE, output before the input ends, bounded memory, huge fields'
. ./lib.sh

# ulimit -v works, and the build is not ASan (which reserves terabytes of
# virtual memory) nor run under valgrind.
test_lazy_prereq ULIMIT_V '
	case $BUILD in *-asan | *asan*) exit 1 ;; esac &&
	test -z "$TEST_VALGRIND" &&
	(ulimit -v 102400 && jl-csv --version >/dev/null)
'

MEM_KB=102400 # ulimit -v for the memory tests: 100 MiB

# rows N: a header and N rows of 101 bytes, quoted fields and a quoted newline included.
rows() {
	echo "id,name,note,city,amount,time"
	yes '123456789,"Doe, Jane","said ""hi""
and left, then came back",  Zürich  ,-12.50,2024-06-01T12:00:00Z' | head -n $(($1 * 2))
}

# bg_start NAME CMD...: run CMD in the background, without fd 8 (the test's
# end of a FIFO); its pid goes to NAME.pid, its exit status to NAME.rc.
bg_start() {
	bg_name=$1
	shift
	rm -f "$bg_name.pid" "$bg_name.rc"
	("$@" 8>&- &
		echo $! >"$bg_name.pid"
		wait $!
		echo $? >"$bg_name.rc") 8>&- &
	timeout 10 sh -c "until test -s $bg_name.pid; do sleep 0.05; done"
}

# bg_wait NAME [SECONDS]: NAME ends within SECONDS (20), with status 0.
bg_wait() {
	timeout "${2:-20}" sh -c "until test -s $1.rc; do sleep 0.05; done" &&
	test "$(cat "$1.rc")" = 0
}

# bg_kill NAME: stop NAME if it still runs (test_when_finished).
bg_kill() {
	if test -s "$1.pid" && ! test -s "$1.rc"; then
		kill "$(cat "$1.pid")" 2>/dev/null
	fi
	:
}

test_expect_success 'setup: a 6 MB file' '
	rows 60000 >big.csv &&
	test "$(wc -c <big.csv)" -gt 5000000
'

test_expect_success 'closed stdout (| head -1): exit 141 or 0, nothing on stderr' '
	{ jl-csv big.csv 2>err; echo $? >rc; } | head -n 1 >first &&
	rc=$(cat rc) &&
	{ test "$rc" = 141 || test "$rc" = 0; } &&
	test_must_be_empty err &&
	printf "%s\n" "{\"id\":\"123456789\",\"name\":\"Doe, Jane\",\"note\":\"said \\\"hi\\\"\\nand left, then came back\",\"city\":\"  Zürich  \",\"amount\":\"-12.50\",\"time\":\"2024-06-01T12:00:00Z\"}" >expect &&
	test_cmp expect first
'

test_expect_success 'closed stdout while reading a pipe: exit 141 or 0, nothing on stderr' '
	{ rows 60000 | jl-csv --line 2>err; echo $? >rc; } | head -n 2 >two &&
	rc=$(cat rc) &&
	{ test "$rc" = 141 || test "$rc" = 0; } &&
	test_must_be_empty err &&
	test_line_count = 2 two
'

test_expect_success 'closed stdout with SIGPIPE ignored: a clean end, at most one message' '
	{ (trap "" PIPE && jl-csv big.csv 2>err; echo $? >rc); } | head -n 1 >first &&
	rc=$(cat rc) &&
	{ test "$rc" = 141 || test "$rc" = 0 || test "$rc" = 74; } &&
	test_line_count -le 1 err &&
	test_cmp expect first
'

test_expect_success 'output arrives before the input ends (FIFO)' '
	mkfifo in.fifo &&
	exec 8<>in.fifo &&
	test_when_finished "exec 8>&-; bg_kill jl" &&
	bg_start jl jl-csv in.fifo >fifo.out 2>fifo.err &&
	printf "a,b\n1,2\n" >&8 &&
	timeout 10 sh -c "until test -s fifo.out; do sleep 0.05; done" &&
	echo "{\"a\":\"1\",\"b\":\"2\"}" >expect1 &&
	test_cmp expect1 fifo.out &&
	test_must_fail test -f jl.rc &&
	printf "3,4\n" >&8 &&
	exec 8>&- &&
	bg_wait jl &&
	cat >expect2 <<-\EOF &&
	{"a":"1","b":"2"}
	{"a":"3","b":"4"}
	EOF
	test_cmp expect2 fifo.out
'

test_expect_success 'each row leaves as soon as it is complete (stdin, rows one by one)' '
	mkfifo in2.fifo &&
	exec 8<>in2.fifo &&
	test_when_finished "exec 8>&-; bg_kill jl2" &&
	bg_start jl2 sh -c "exec jl-csv --line - <in2.fifo" >pipe.out 2>pipe.err &&
	printf "a,b\r\n" >&8 &&
	for i in 1 2 3; do
		printf "%d,\"x\ny\"\r\n" $i >&8 &&
		timeout 10 sh -c "until test \$(wc -l <pipe.out) -ge $i; do sleep 0.05; done" || return 1
	done &&
	exec 8>&- &&
	bg_wait jl2 &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"x\ny","_line":2}
	{"a":"2","b":"x\ny","_line":4}
	{"a":"3","b":"x\ny","_line":6}
	EOF
	test_cmp expect pipe.out
'

test_expect_success ULIMIT_V 'the memory limit bites: a 150 MB field needs more than 100 MiB' '
	{
		printf "a\n\"" &&
		head -c 150000000 /dev/zero | tr "\0" x &&
		printf "\"\n"
	} | { ulimit -v $MEM_KB && jl-csv -q --max-field 1G >/dev/null 2>&1; echo $? >rc; } &&
	rc=$(cat rc) &&
	test "$rc" != 0 && test "$rc" -lt 128
'

test_expect_success ULIMIT_V '200 MB of rows stream through in 100 MiB of address space' '
	rows 2000000 | { ulimit -v $MEM_KB && jl-csv --line 2>err; echo $? >rc; } | wc -l >count &&
	test "$(cat rc)" = 0 &&
	test "$(cat count)" = 2000000
'

test_expect_success ULIMIT_V 'a runaway quote over 150 MB stays within 100 MiB' '
	{
		printf "a,b\n1,\"" &&
		yes "no quote here, just commas, and
newlines" | head -c 150000000
	} | { ulimit -v $MEM_KB && jl-csv -q >out; echo $? >rc; } &&
	test "$(cat rc)" = 0 &&
	test_line_count = 1 out &&
	test_grep "^{\"_error\":{\"tool\":\"jl-csv\",\"code\":\"\(field_too_large\|unterminated_quote\)\",\"message\":\"<stdin>:2: " out &&
	test "$(wc -c <out)" -lt 70000
'

test_expect_success EXPENSIVE 'a field past INT_MAX bytes converts whole with --max-field 3G' '
	cat >gen-huge.sh <<-\EOF &&
	# PREFIX N SUFFIX: PREFIX, N bytes of x, SUFFIX (printf formats)
	printf "$1"
	head -c "$2" /dev/zero | tr "\0" x
	printf "$3"
	EOF
	n=2200000000 &&
	mkfifo huge.fifo &&
	test_when_finished "bg_kill huge" &&
	bg_start huge sh -c "sh gen-huge.sh \"a\\n\\\"\" $n \"\\\"\\n\" |
		jl-csv --max-field 3G >huge.fifo 2>huge.err" &&
	sh gen-huge.sh "{\"a\":\"" $n "\"}\n" | cmp - huge.fifo &&
	bg_wait huge 600
'

test_done
