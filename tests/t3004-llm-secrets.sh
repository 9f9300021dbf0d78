#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-llm keeps keys secret: a canary key never leaves in output, messages, logs, the database, error records or argv; --api-key-file modes; no redirects'
. ./lib.sh
. "$TEST_DIRECTORY/lib-llm.sh"

# The canary: a key that must never be seen outside the request's header.
CANARY=sk-test-CANARY-$(od -An -N12 -tx1 /dev/urandom | tr -d " \n")
CANARY_PREFIX=$(printf "%s" "$CANARY" | cut -c1-12)
CANARY_B64=$(printf "%s" "$CANARY" | base64 | tr -d "\n")
OPENAI_API_KEY=$CANARY
ANTHROPIC_API_KEY=$CANARY
export OPENAI_API_KEY ANTHROPIC_API_KEY

# no_secret FILE...: none of the files holds the canary, its first 12
# characters or its base64 form (binary files too); names every one that does.
# (Not in lib-llm.sh: t3010 has a no_secret of its own for other secrets,
# the AWS secret key and session token, without the base64 form.)
no_secret() {
	ns_ret=0
	for f in "$@"; do
		for s in "$CANARY" "$CANARY_PREFIX" "$CANARY_B64"; do
			if grep -a -F -e "$s" "$f" >/dev/null; then
				echo >&4 "no_secret: $f holds '$s':"
				grep -a -F -e "$s" "$f" | cut -c1-300 >&4
				ns_ret=1
				break
			fi
		done
	done
	return $ns_ret
}

test_expect_success 'setup: bodies that echo the key back, the mock' '
	mkdir -p fixtures &&
	printf "{\"error\":{\"message\":\"upstream echo: Authorization: Bearer %s\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n" "$CANARY" >fixtures/echo500.json &&
	printf "{\"error\":{\"message\":\"Incorrect API key provided: %s\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}\n" "$CANARY" >fixtures/echo401.json &&
	printf "{\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"bad header x-api-key: %s\"}}\n" "$CANARY" >fixtures/echo-anthropic.json &&
	cat >fixtures/mixed.scn <<-\EOF
	1 path=/chat/completions status=500 body=@echo500.json
	2 path=/chat/completions error=bad_request
	3 path=/chat/completions status=429 body=@echo500.json header="retry-after: 0"
	4 path=/chat/completions error=context_length
	5 path=/chat/completions status=502 body=@echo500.json
	6 path=/chat/completions status=400 body=@echo500.json
	EOF
'

test_expect_success PYTHON3 'failures whose bodies echo the key: not in stdout, stderr, --log, the database or _error' '
	mock_start --key "$CANARY" --scenario fixtures/mixed.scn &&
	records 5 >in &&
	# --retries 3: whichever record meets the one 429, it has tries left, so
	# the run never stops early, whatever the order the retries take
	llm -j 1 -k --retries 3 --db secrets.db --log secrets.log -p "Company: {{.name}}" <in >out 2>err &&
	llm -j 1 -k --retries 3 --db secrets.db --log secrets.log -p "Company: {{.name}}" <in >out2 2>err2 &&
	no_secret out err out2 err2 secrets.log secrets.db &&
	if test -e secrets.db-wal; then no_secret secrets.db-wal; fi &&
	check out <<-\EOF
	len(R) == 5
	any(err(r) for r in R) and any(ok(r) for r in R)
	# the positive control: the key was sent, in the header, and accepted
	all(m["auth"] for m in M) and any(m["key"] == 1 for m in C)
	EOF
'

test_expect_success PYTHON3 'a refused key (401 at the check, its body echoing the key): exit 77, no key in the messages' '
	cat >fixtures/check401.scn <<-\EOF &&
	1 path=/models status=401 body=@echo401.json
	EOF
	mock_start --key "$CANARY" --scenario fixtures/check401.scn &&
	records 2 >in &&
	test_expect_code 77 llm -p "Company: {{.name}}" <in >out 2>err &&
	test_grep "^jl-llm: " err &&
	no_secret out err &&
	mock_start --key sk-another-key-0123456789 &&
	test_expect_code 77 llm -p "Company: {{.name}}" <in >out 2>err &&
	no_secret out err
'

test_expect_success PYTHON3 'a 401 mid-run whose body echoes the key: exit 77, no key in the records or messages' '
	cat >fixtures/run401.scn <<-\EOF &&
	2 path=/chat/completions status=401 body=@echo401.json
	EOF
	mock_start --key "$CANARY" --scenario fixtures/run401.scn &&
	records 3 >in &&
	test_expect_code 77 llm -j 1 -k --log run401.log -p "Company: {{.name}}" <in >out 2>err &&
	no_secret out err run401.log &&
	check out <<-\EOF
	len(R) == 3 and ok(R[0]) and err(R[1])["status"] == 401
	EOF
'

test_expect_success PYTHON3 'Anthropic (x-api-key), a 500 echoing it: no key in the record or messages' '
	cat >fixtures/anthropic.scn <<-\EOF &&
	1- path=/v1/messages status=500 body=@echo-anthropic.json
	EOF
	mock_start --key "$CANARY" --scenario fixtures/anthropic.scn &&
	records 1 >in &&
	jl-llm -m anthropic/claude-x --base-url "$MOCK_URL/v1" --retry-base-ms 5 --retries 1 \
		--log anthropic.log -p "Company: {{.name}}" <in >out 2>err &&
	no_secret out err anthropic.log &&
	check out <<-\EOF
	err(R[0])["status"] == 500
	[m["key"] for m in M if m["route"] == "models"] == [1]
	EOF
'

test_expect_success PYTHON3 '--dry-run shows the request, never the key' '
	records 2 >in &&
	llm --dry-run -p "Company: {{.name}}" <in >out 2>err &&
	no_secret out err
'

test_expect_success PYTHON3 'not in /proc/PID/cmdline; kill -9 leaves the database and its -wal free of it' '
	mock_start --key "$CANARY" --latency 300 &&
	records 10 >in &&
	{ jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" --db kill.db -j 1 \
		-p "Company: {{.name}}" <in >out 2>err & } &&
	pid=$! &&
	wait_lines 2 out &&
	tr "\\000" " " <"/proc/$pid/cmdline" >cmdline &&
	kill -9 "$pid" &&
	{ wait "$pid"; true; } &&
	test_grep "mock-model" cmdline &&
	test -e kill.db-wal &&
	no_secret cmdline out err kill.db kill.db-wal &&
	if test -e kill.db-shm; then no_secret kill.db-shm; fi
'

test_expect_success NO_VALGRIND 'the process cannot leave a core file (kill -SEGV with ulimit -c unlimited)' '
	mkdir -p core-control core-test &&
	mock_start --key "$CANARY" --latency 5000 &&
	records 1 >core-test/in &&
	(
		ulimit -c unlimited 2>/dev/null || exit 0
		cd core-control &&
		sh -c "kill -SEGV \$\$"
		if test -z "$(ls)"; then
			exit 0 # core files do not land in the current directory here
		fi &&
		cd ../core-test &&
		{ jl-llm -m openai/mock-model --base-url "$MOCK_URL/v1" -p "x {{.name}}" <in >out 2>err & } &&
		pid=$! &&
		sleep 0.5 &&
		kill -SEGV "$pid" &&
		{ wait "$pid"; true; } &&
		rm -f in out err &&
		test -z "$(ls)"
	) &&
	rm -rf core-control &&
	mock_stop
'

# --- the key file ---------------------------------------------------------------

test_expect_success PYTHON3 '--api-key-file: refused (78) when others may read it, before any input is read' '
	mkdir -p fixtures/keys &&
	printf "%s\n" "$CANARY" >fixtures/keys/key &&
	mock_start --key "$CANARY" &&
	records 2 >in &&
	for mode in 644 640 604 660; do
		chmod "$mode" fixtures/keys/key &&
		{ (
			unset OPENAI_API_KEY &&
			test_expect_code 78 llm --api-key-file fixtures/keys/key -p "Company: {{.name}}" >out 2>err
		) && cat >rest; } <in &&
		test_cmp in rest &&
		test_must_be_empty out &&
		test_grep "fixtures/keys/key" err &&
		no_secret err || return 1
	done &&
	test_must_be_empty "$MOCK_LOG"
'

test_expect_success PYTHON3 '--api-key-file with mode 0600: the key is sent (the mock sees it), never shown' '
	chmod 600 fixtures/keys/key &&
	(
		unset OPENAI_API_KEY &&
		llm --api-key-file fixtures/keys/key --log keyfile.log -p "Company: {{.name}}" <in >out 2>err
	) &&
	no_secret out err keyfile.log &&
	check out <<-\EOF
	len(R) == 2 and all(ok(r) for r in R)
	len(C) == 2 and all(m["auth"] and m["key"] == 1 for m in M)
	EOF
'

test_expect_success PYTHON3 'a missing key file: exit 78' '
	records 1 >in &&
	test_expect_code 78 llm --api-key-file fixtures/keys/nope -p "Company: {{.name}}" <in >out 2>err &&
	test_grep "fixtures/keys/nope" err
'

# --- redirects -------------------------------------------------------------------

test_expect_success PYTHON3 'a redirect from the LLM endpoint is not followed: the key goes nowhere else' '
	mock_start &&
	OTHER_LOG=$MOCK_LOG &&
	OTHER_URL=$MOCK_URL &&
	cat >fixtures/redirect.scn <<-EOF &&
	1 path=/chat/completions status=307 header="Location: $OTHER_URL/v1/chat/completions"
	EOF
	mock_start --key "$CANARY" --scenario fixtures/redirect.scn &&
	records 2 >in &&
	llm -j 1 -k -p "Company: {{.name}}" <in >out 2>err &&
	test_must_be_empty "$OTHER_LOG" &&
	no_secret out err &&
	check out <<-\EOF
	len(R) == 2 and err(R[0])["status"] == 307 and ok(R[1])
	# not followed, and not retried
	len([m for m in C if m["status"] == 307]) == 1
	EOF
'

test_expect_success 'no file left anywhere in the scratch directory holds the key' '
	find . -type f ! -path "./fixtures/*" >files &&
	test -s files &&
	while read -r f; do
		no_secret "$f" || return 1
	done <files
'

test_done
