#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
test_description='jl-csv basics: options, header handling, --infer, --line and _file, several inputs'
. ./lib.sh

test_expect_success 'setup' '
	cat >people.csv <<-\EOF &&
	id,name,zip,score
	00017,Ada Lovelace,02139,98.5
	12345678901234567890,"Hopper, Grace",,true
	EOF
	printf "a,b\n1,2\n" >one.csv &&
	printf "x,y,z\n3,4,5\n" >two.csv
'

test_expect_success 'one object per row, keys from the header, values strings' '
	jl-csv people.csv >out 2>err &&
	cat >expect <<-\EOF &&
	{"id":"00017","name":"Ada Lovelace","zip":"02139","score":"98.5"}
	{"id":"12345678901234567890","name":"Hopper, Grace","zip":"","score":"true"}
	EOF
	test_cmp expect out &&
	json_lines_valid out
'

test_expect_success 'no FILE reads standard input' '
	jl-csv <people.csv >out &&
	jl-csv people.csv >expect &&
	test_cmp expect out
'

test_expect_success '- reads standard input, also from a pipe' '
	cat people.csv | jl-csv - >out &&
	jl-csv people.csv >expect &&
	test_cmp expect out
'

test_expect_success 'several files: each has its own header, output in order' '
	jl-csv one.csv two.csv one.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"x":"3","y":"4","z":"5"}
	{"a":"1","b":"2"}
	EOF
	test_cmp expect out
'

test_expect_success 'standard input among files' '
	jl-csv one.csv - two.csv <people.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"id":"00017","name":"Ada Lovelace","zip":"02139","score":"98.5"}
	{"id":"12345678901234567890","name":"Hopper, Grace","zip":"","score":"true"}
	{"x":"3","y":"4","z":"5"}
	EOF
	test_cmp expect out
'

test_expect_success 'a file without rows between two files' '
	printf "h1,h2\n" >header-only.csv &&
	: >empty.csv &&
	jl-csv one.csv header-only.csv empty.csv two.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"x":"3","y":"4","z":"5"}
	EOF
	test_cmp expect out
'

test_expect_success '--line adds the physical line where the row starts' '
	printf "a,b\n1,\"two\nlines\"\n\n3,4\n" >multi.csv &&
	jl-csv --line multi.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"two\nlines","_line":2}
	{"a":"3","b":"4","_line":5}
	EOF
	test_cmp expect out
'

test_expect_success '--line with one file adds no _file' '
	jl-csv --line one.csv >out &&
	echo "{\"a\":\"1\",\"b\":\"2\",\"_line\":2}" >expect &&
	test_cmp expect out
'

test_expect_success '--line with several files adds _file, lines restart per file' '
	jl-csv --line one.csv two.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2","_file":"one.csv","_line":2}
	{"x":"3","y":"4","z":"5","_file":"two.csv","_line":2}
	EOF
	test_cmp expect out
'

test_expect_success '_file is the name as given on the command line' '
	mkdir -p sub &&
	cp one.csv sub/in.csv &&
	jl-csv --line sub/in.csv ./two.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2","_file":"sub/in.csv","_line":2}
	{"x":"3","y":"4","z":"5","_file":"./two.csv","_line":2}
	EOF
	test_cmp expect out
'

test_expect_success 'without --line there is no _line or _file' '
	jl-csv one.csv two.csv >out &&
	test_grep -v "\"_line\"" out &&
	test_grep -v "\"_file\"" out
'

test_expect_success 'a column named _line is renamed when --line adds _line' '
	printf "_line,v\n7,x\n" >meta.csv &&
	jl-csv --line meta.csv >out 2>err &&
	echo "{\"_line_2\":\"7\",\"v\":\"x\",\"_line\":2}" >expect &&
	test_cmp expect out
'

test_expect_success 'duplicate header names become name, name_2, name_3' '
	printf "name,name,other,name\n1,2,3,4\n" >dup.csv &&
	jl-csv dup.csv >out 2>err &&
	echo "{\"name\":\"1\",\"name_2\":\"2\",\"other\":\"3\",\"name_3\":\"4\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'empty header names become column_N, N the 1-based position' '
	printf ",b,\"\",d,\n1,2,3,4,5\n" >empty-names.csv &&
	jl-csv empty-names.csv >out 2>err &&
	echo "{\"column_1\":\"1\",\"b\":\"2\",\"column_3\":\"3\",\"d\":\"4\",\"column_5\":\"5\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'spaces in header names and unquoted fields are kept' '
	printf " a , b\n 1 ,2  \n" >spaces.csv &&
	jl-csv spaces.csv >out &&
	echo "{\" a \":\" 1 \",\" b\":\"2  \"}" >expect &&
	test_cmp expect out
'

test_expect_success '--no-header: keys c1, c2, ... and the first row is data' '
	printf "1,2,3\n4,5,6\n" >nohdr.csv &&
	jl-csv --no-header nohdr.csv >out &&
	cat >expect <<-\EOF &&
	{"c1":"1","c2":"2","c3":"3"}
	{"c1":"4","c2":"5","c3":"6"}
	EOF
	test_cmp expect out
'

test_expect_success '--no-header with --line numbers the first row 1' '
	jl-csv --no-header --line nohdr.csv >out &&
	cat >expect <<-\EOF &&
	{"c1":"1","c2":"2","c3":"3","_line":1}
	{"c1":"4","c2":"5","c3":"6","_line":2}
	EOF
	test_cmp expect out
'

test_expect_success '--header a,b,c names the columns, the first row is data' '
	jl-csv --header p,q,r --line nohdr.csv >out &&
	cat >expect <<-\EOF &&
	{"p":"1","q":"2","r":"3","_line":1}
	{"p":"4","q":"5","r":"6","_line":2}
	EOF
	test_cmp expect out
'

test_expect_success '--header applies to every file' '
	jl-csv --header p,q,r nohdr.csv nohdr.csv >out &&
	test_line_count = 4 out &&
	test "$(grep -c "^{\"p\":\"[14]\",\"q\":\"[25]\",\"r\":\"[36]\"}\$" out)" = 4
'

test_expect_success '--header with fewer names than fields: the rest in _extra' '
	jl-csv --header p,q nohdr.csv >out &&
	cat >expect <<-\EOF &&
	{"p":"1","q":"2","_extra":["3"]}
	{"p":"4","q":"5","_extra":["6"]}
	EOF
	test_cmp expect out
'

test_expect_success '--header names are made unique too' '
	jl-csv --header k,k, nohdr.csv >out 2>err &&
	cat >expect <<-\EOF &&
	{"k":"1","k_2":"2","column_3":"3"}
	{"k":"4","k_2":"5","column_3":"6"}
	EOF
	test_cmp expect out
'

test_expect_success '--header and --no-header together: usage error 64' '
	test_expect_code 64 jl-csv --header a,b --no-header nohdr.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: " err &&
	test_expect_code 64 jl-csv --no-header --header a,b nohdr.csv >out 2>err &&
	test_must_be_empty out &&
	test_grep "^jl-csv: " err
'

test_expect_success '--tsv: tab-separated, commas and spaces are data' '
	printf "a\tb\tc\n1, 2\t\"x\ty\"\t\n" >in.tsv &&
	jl-csv --tsv in.tsv >out &&
	printf "%s\n" "{\"a\":\"1, 2\",\"b\":\"x\\ty\",\"c\":\"\"}" >expect &&
	test_cmp expect out
'

test_expect_success '-d tab and --delimiter tab are --tsv' '
	jl-csv --tsv in.tsv >expect &&
	jl-csv -d tab in.tsv >out1 &&
	jl-csv --delimiter tab in.tsv >out2 &&
	jl-csv -d "$(printf "\t")" in.tsv >out3 &&
	test_cmp expect out1 &&
	test_cmp expect out2 &&
	test_cmp expect out3
'

test_expect_success '-d ";" and --delimiter "|"' '
	printf "a;b\n1,5;\"x;y\"\n" >semi.csv &&
	jl-csv -d ";" semi.csv >out &&
	echo "{\"a\":\"1,5\",\"b\":\"x;y\"}" >expect &&
	test_cmp expect out &&
	printf "a|b\n1|\"|\"\n" >pipe.csv &&
	jl-csv --delimiter "|" pipe.csv >out &&
	echo "{\"a\":\"1\",\"b\":\"|\"}" >expect &&
	test_cmp expect out
'

test_expect_success '--quote C: another quote character, " is then data' '
	printf "a,b\n\047x,y\047,\047it\047\047s\047\n\"q\",z\n" >squote.csv &&
	jl-csv --quote "$(printf "\047")" squote.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"x,y","b":"it'"'"'s"}
	{"a":"\"q\"","b":"z"}
	EOF
	test_cmp expect out
'

test_expect_success '--quote with --tsv' '
	printf "a\tb\n|x\ty|\t|a||b|\n" >bar.tsv &&
	jl-csv --tsv --quote "|" bar.tsv >out &&
	printf "%s\n" "{\"a\":\"x\\ty\",\"b\":\"a|b\"}" >expect &&
	test_cmp expect out
'

test_expect_success 'ragged rows: missing cells null, empty cells "", the rest in _extra' '
	printf "a,b,c\n1\n1,,\n1,2,3,4,\n" >ragged.csv &&
	jl-csv ragged.csv >out 2>err &&
	cat >expect <<-\EOF &&
	{"a":"1","b":null,"c":null}
	{"a":"1","b":"","c":""}
	{"a":"1","b":"2","c":"3","_extra":["4",""]}
	EOF
	test_cmp expect out
'

test_expect_success '--infer: exact integers, decimals, booleans and empty cells' '
	cat >types.csv <<-\EOF &&
	int,neg,dec,bool,empty,quoted_empty
	42,-7,3.25,true,,""
	0,-9007199254740992,-0.5,false,,""
	EOF
	jl-csv --infer types.csv >out &&
	cat >expect <<-\EOF &&
	{"int":42,"neg":-7,"dec":3.25,"bool":true,"empty":null,"quoted_empty":null}
	{"int":0,"neg":-9007199254740992,"dec":-0.5,"bool":false,"empty":null,"quoted_empty":null}
	EOF
	test_cmp expect out
'

test_expect_success '--infer: anything doubtful stays a string' '
	cat >doubt.csv <<-\EOF &&
	v
	007
	00
	-0
	+1
	.5
	1.
	1e5
	1E-3
	0x1F
	1_000
	"1,5"
	9007199254740993
	-9007199254740993
	12345678901234567890
	3.14159265358979323846
	TRUE
	True
	null
	NaN
	inf
	-
	EOF
	printf " 1\n1 \n\"2 \"\n" >>doubt.csv &&
	jl-csv --infer doubt.csv >out &&
	jl-csv doubt.csv >strings &&
	test_cmp strings out
'

test_expect_success '--infer: quoted numbers are numbers too (quotes are CSV syntax)' '
	printf "a,b\n\"12\",\"true\"\n" >q.csv &&
	jl-csv --infer q.csv >out &&
	echo "{\"a\":12,\"b\":true}" >expect &&
	test_cmp expect out
'

test_expect_success 'without --infer every value is a string' '
	jl-csv types.csv >out &&
	cat >expect <<-\EOF &&
	{"int":"42","neg":"-7","dec":"3.25","bool":"true","empty":"","quoted_empty":""}
	{"int":"0","neg":"-9007199254740992","dec":"-0.5","bool":"false","empty":"","quoted_empty":""}
	EOF
	test_cmp expect out
'

test_expect_success '--infer leaves _extra cells strings and missing cells null' '
	printf "a,b\n1\n2,3,4,true,\n" >ir.csv &&
	jl-csv --infer ir.csv >out &&
	cat >expect <<-\EOF &&
	{"a":1,"b":null}
	{"a":2,"b":3,"_extra":["4","true",""]}
	EOF
	test_cmp expect out
'

test_expect_success '--infer with --no-header, --line and several files' '
	printf "1,x\n" >n1.csv &&
	printf "2.5,false\n" >n2.csv &&
	jl-csv --infer --no-header --line n1.csv n2.csv >out &&
	cat >expect <<-\EOF &&
	{"c1":1,"c2":"x","_file":"n1.csv","_line":1}
	{"c1":2.5,"c2":false,"_file":"n2.csv","_line":1}
	EOF
	test_cmp expect out
'

test_expect_success 'a UTF-8 BOM is stripped from every file' '
	printf "\357\273\277a,b\n1,2\n" >bom.csv &&
	jl-csv bom.csv bom.csv >out &&
	cat >expect <<-\EOF &&
	{"a":"1","b":"2"}
	{"a":"1","b":"2"}
	EOF
	test_cmp expect out
'

test_expect_success 'a BOM later in the file is data' '
	printf "a\n\357\273\277x\n" >bom2.csv &&
	jl-csv bom2.csv >out &&
	printf "{\"a\":\"\357\273\277x\"}\n" >expect &&
	test_cmp expect out
'

test_expect_success '--max-field accepts sizes with k, M and G' '
	jl-csv --max-field 100 one.csv >out1 &&
	jl-csv --max-field 1k one.csv >out2 &&
	jl-csv --max-field 2M one.csv >out3 &&
	jl-csv --max-field 3G one.csv >out4 &&
	jl-csv one.csv >expect &&
	test_cmp expect out1 &&
	test_cmp expect out2 &&
	test_cmp expect out3 &&
	test_cmp expect out4
'

test_expect_success '--help goes to stdout and exits 0' '
	jl-csv --help >out 2>err &&
	test_must_be_empty err &&
	test_grep "^usage: jl-csv" out &&
	for o in --delimiter --tsv --quote --no-header --header --infer --line \
		--encoding --max-field --strict --quiet; do
		test_grep "$o" out || return 1
	done
'

test_expect_success '--version names jl-csv and libcsv' '
	jl-csv --version >out 2>err &&
	test_must_be_empty err &&
	test_grep "^jl-csv " out &&
	test_grep libcsv out
'

test_expect_success 'output is valid JSON Lines for a mixed table' '
	printf "h,\"q\"\"h\",\n\"a\nb\",\\\\,\001\n\n,,,,\n" >mixed.csv &&
	jl-csv --line mixed.csv >out &&
	json_lines_valid out &&
	test_line_count = 2 out
'

test_done
