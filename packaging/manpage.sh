#!/usr/bin/env bash
# Writes braingraph-cli.1.gz from the CLI's own --help texts (no help2man in Debian's build set).
# Usage: manpage.sh BRAINGRAPH_CLI VERSION OUT.1.gz
set -euo pipefail
cli="$1"; version="$2"; out="$3"
esc() { sed -e 's/\\/\\\\/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
{
  echo ".TH BRAINGRAPH-CLI 1 \"\" \"braingraph-cli $version\" \"BrainGraph Workbench\""
  echo ".SH NAME"
  echo "braingraph-cli \\- $("$cli" --help | head -n 1 | esc)"
  echo ".SH SYNOPSIS"
  echo ".B braingraph-cli"
  echo "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fICOMMAND OPTIONS\\fR]"
  echo ".SH OPTIONS"
  echo ".nf"
  "$cli" --help | sed -n '/^Options:/,/^$/p' | sed '1d' | esc
  echo ".fi"
  echo ".SH COMMANDS"
  for sub in $("$cli" --help | sed -n '/^Subcommands:/,$p' | sed '1d' | awk 'NF {print $1}'); do
    echo ".SS $sub"
    echo ".nf"
    "$cli" "$sub" --help | esc
    echo ".fi"
  done
  cat <<'TAIL'
.SH ENVIRONMENT
.TP
.B BRAINGRAPH_DATA
Data folders holding atlases/ and data/, colon-separated; --data overrides it.
.TP
.B BRAINGRAPH_MODEL_LIBRARY
The model library (LibTorch) to load instead of the installed one.
.TP
.B BRAINGRAPH_REPORT
The PDF renderer (braingraph-report) to run instead of the one beside braingraph-cli.
.SH EXIT STATUS
0 success; 64 usage; 65 bad input data; 66 missing input; 70 internal error; 74 I/O error;
78 configuration; 130 cancelled.
.SH FILES
~/.config/braingraph/settings.json (settings), ~/.local/share/braingraph/logs/ (logs),
/usr/share/doc/braingraph/user-guide.md (the user guide).
.SH SEE ALSO
.BR braingraph (1)
TAIL
} | gzip -9n > "$out"
