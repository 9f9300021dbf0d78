#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv --encoding: latin1, cp1252, UTF-16 with and without BOM, bad bytes, unknown names'
. ./lib.sh

# Error messages are compared up to their "FILE:LINE: " prefix; the cause is free text.
normalise_messages() {
	sed -E 's/("message":"[^":]*:[0-9]+: )([^"\\]|\\.)*"/\1..."/g' "$1"
}

test_expect_success 'setup: the same table in UTF-8' '
	printf "nom,ville\nJos\303\251,Z\303\274rich\n\"na\303\257ve, s\303\251r\",Malm\303\266\n" >utf8.csv &&
	cat >expect <<-\EOF
	{"nom":"José","ville":"Zürich"}
	{"nom":"naïve, sér","ville":"Malmö"}
	EOF
'

test_expect_success 'latin1' '
	printf "nom,ville\nJos\351,Z\374rich\n\"na\357ve, s\351r\",Malm\366\n" >latin1.csv &&
	jl-csv --encoding latin1 latin1.csv >out 2>err &&
	test_cmp expect out
'

test_expect_success 'latin1 spelled ISO-8859-1 and iso8859-1' '
	jl-csv --encoding ISO-8859-1 latin1.csv >out1 &&
	jl-csv --encoding iso8859-1 latin1.csv >out2 &&
	test_cmp expect out1 &&
	test_cmp expect out2
'

test_expect_success 'latin1 bytes without --encoding: bad_utf8 records that suggest --encoding' '
	jl-csv latin1.csv >out 2>err &&
	test_line_count = 2 out &&
	test "$(grep -c "\"code\":\"bad_utf8\"" out)" = 2 &&
	test_grep "\"message\":\"latin1.csv:2: [^\"]*--encoding" out &&
	test_grep "^jl-csv: latin1.csv:2: .*--encoding" err
'

test_expect_success 'cp1252: euro sign, curly quotes, ellipsis' '
	printf "a,b\n\200 5,\223quoted\224\n\205,\226\n" >cp1252.csv &&
	jl-csv --encoding cp1252 cp1252.csv >out &&
	cat >expect1252 <<-\EOF &&
	{"a":"€ 5","b":"“quoted”"}
	{"a":"…","b":"–"}
	EOF
	test_cmp expect1252 out &&
	jl-csv --encoding WINDOWS-1252 cp1252.csv >out &&
	test_cmp expect1252 out
'

test_expect_success 'utf-16 with a little-endian BOM' '
	iconv -f UTF-8 -t UTF-16LE utf8.csv >body &&
	{ printf "\377\376" && cat body; } >le-bom.csv &&
	jl-csv --encoding utf-16 le-bom.csv >out &&
	test_cmp expect out
'

test_expect_success 'utf-16 with a big-endian BOM' '
	iconv -f UTF-8 -t UTF-16BE utf8.csv >body &&
	{ printf "\376\377" && cat body; } >be-bom.csv &&
	jl-csv --encoding UTF-16 be-bom.csv >out &&
	test_cmp expect out
'

test_expect_success 'utf-16le without a BOM' '
	iconv -f UTF-8 -t UTF-16LE utf8.csv >le.csv &&
	jl-csv --encoding utf-16le le.csv >out &&
	test_cmp expect out
'

test_expect_success 'utf-16le with a BOM: the BOM is not part of the first name' '
	jl-csv --encoding utf-16le le-bom.csv >out &&
	test_cmp expect out
'

test_expect_success 'utf-16be without a BOM' '
	iconv -f UTF-8 -t UTF-16BE utf8.csv >be.csv &&
	jl-csv --encoding UTF-16BE be.csv >out &&
	test_cmp expect out
'

test_expect_success 'utf-16: CRLF, quoted newlines, non-BMP characters and --line' '
	printf "k,v\r\n\"a\r\nb\",\360\237\230\200\r\n\r\nz,\344\270\255\r\n" >rich8.csv &&
	iconv -f UTF-8 -t UTF-16LE rich8.csv >body &&
	{ printf "\377\376" && cat body; } >rich16.csv &&
	jl-csv --line --encoding utf-16 rich16.csv >out &&
	cat >expect-rich <<-\EOF &&
	{"k":"a\r\nb","v":"😀","_line":2}
	{"k":"z","v":"中","_line":5}
	EOF
	test_cmp expect-rich out
'

test_expect_success '--encoding utf-8 is the default' '
	jl-csv --encoding utf-8 utf8.csv >out1 &&
	jl-csv --encoding UTF8 utf8.csv >out2 &&
	test_cmp expect out1 &&
	test_cmp expect out2
'

test_expect_success 'a byte invalid in cp1252: bad_utf8 on its line, naming the encoding' '
	printf "a,b\n1,ok\n2,x\201y\n3,\200\n" >bad1252.csv &&
	jl-csv --encoding cp1252 bad1252.csv >out 2>err &&
	normalise_messages out >actual &&
	cat >expect-bad <<-\EOF &&
	{"a":"1","b":"ok"}
	{"_error":{"tool":"jl-csv","code":"bad_utf8","message":"bad1252.csv:3: ...","file":"bad1252.csv","line":3},"_raw":"2,x�y"}
	{"a":"3","b":"€"}
	EOF
	test_cmp expect-bad actual &&
	test_grep "\"message\":\"bad1252.csv:3: [^\"]*cp1252" out &&
	test_grep "^jl-csv: bad1252.csv:3: .*cp1252" err &&
	json_lines_valid out
'

test_expect_success 'the same with --strict: exit 65 after the record' '
	test_expect_code 65 jl-csv --strict --encoding cp1252 bad1252.csv >out 2>err &&
	test_line_count = 2 out &&
	tail -n 1 out >last &&
	test_grep "\"code\":\"bad_utf8\"" last
'

test_expect_success 'an unpaired surrogate in utf-16le: bad_utf8 on its line, later rows fine' '
	printf "a\n1\n" | iconv -f UTF-8 -t UTF-16LE >sur.csv &&
	printf "\000\330x\000\n\000" >>sur.csv &&
	printf "2\n" | iconv -f UTF-8 -t UTF-16LE >>sur.csv &&
	jl-csv --encoding utf-16le sur.csv >out 2>err &&
	normalise_messages out >actual &&
	sed -n 1p actual >line1 &&
	sed -n 3p actual >line3 &&
	echo "{\"a\":\"1\"}" >want1 &&
	echo "{\"a\":\"2\"}" >want3 &&
	test_cmp want1 line1 &&
	test_cmp want3 line3 &&
	sed -n 2p out >line2 &&
	test_grep "^{\"_error\":{\"tool\":\"jl-csv\",\"code\":\"bad_utf8\",\"message\":\"sur.csv:3: [^\"]*utf-16le" line2 &&
	test_grep "\"line\":3}" line2 &&
	test_line_count = 3 out
'

test_expect_success 'utf-16 cut short at the end of the file: bad_utf8 on the last line' '
	printf "a\n1\n" | iconv -f UTF-8 -t UTF-16LE >odd.csv &&
	printf "2" >>odd.csv &&
	jl-csv --encoding utf-16le odd.csv >out 2>err &&
	test_line_count = 2 out &&
	sed -n 2p out >line2 &&
	test_grep "\"code\":\"bad_utf8\"" line2 &&
	test_grep "\"line\":3" line2
'

test_expect_success 'an unknown encoding: 64, nothing on stdout' '
	test_expect_code 64 jl-csv --encoding klingon-8 utf8.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: .*klingon-8" err
'

test_expect_success 'a large latin1 file equals its iconv conversion (chunk boundaries)' '
	{
		echo "n,text,more" &&
		i=0 &&
		while test $i -lt 4000; do
			printf "%d,\"caf\351, cr\350me \253br\373l\351e\273\",\"l\351ger\n\351t\351\"\n" $i &&
			i=$((i + 1)) || return 1
		done
	} >l1.csv &&
	i=0 &&
	while test $i -lt 6; do
		cat l1.csv l1.csv >l1.tmp && tail -n +2 l1.tmp >l1.body &&
		{ echo "n,text,more" && cat l1.body; } >l1.csv &&
		i=$((i + 1)) || return 1
	done &&
	test "$(wc -c <l1.csv)" -gt 3000000 &&
	iconv -f LATIN1 -t UTF-8 l1.csv >u8.csv &&
	jl-csv --line u8.csv >expect-big &&
	jl-csv --line --encoding latin1 l1.csv >out &&
	cmp expect-big out &&
	test_grep -v _error out
'

test_expect_success 'a large utf-16 file equals its iconv conversion (chunk boundaries)' '
	{ printf "\377\376" && iconv -f UTF-8 -t UTF-16LE u8.csv; } >u16.csv &&
	jl-csv --line --encoding utf-16 u16.csv >out &&
	cmp expect-big out &&
	cat u16.csv | jl-csv --line --encoding utf-16 >out &&
	cmp expect-big out
'

test_done
