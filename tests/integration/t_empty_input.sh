# A job over an empty directory, and over empty files, succeeds with R
# empty part files; a job over a one-line file without a newline works.
. "$(dirname "$0")/lib.sh"
cluster_up 2
mkdir empty
"$DMR" submit wordcount --input empty --output out1 -R 3 -q || fail "empty dir"
check_parts out1 3
[ -z "$(cat out1/part-*)" ] || fail "output of an empty input is not empty"
mkdir blanks; : > blanks/a; : > blanks/b
"$DMR" submit wordcount --input blanks --output out2 -R 2 -q || fail "empty files"
check_parts out2 2
[ -z "$(cat out2/part-*)" ] || fail "output of empty files is not empty"
printf 'last line without newline' > one
"$DMR" submit wordcount --input one --output out3 -q || fail "one line"
printf 'last\t1\nline\t1\nnewline\t1\nwithout\t1\n' > want
job_output out3 > got
same got want "one-line file"
