# Takes the key whose blob is read from stdin out of ~/.ssh/authorized_keys: every line that
# holds it (key_lines.awk), and no other byte. The new file is written to a temp file beside it
# (created exclusively, given the file's mode), then renamed over the old one; the temp file is
# removed on any failure or signal. A file without the key is not rewritten.
#
# Prints `rdock-key-removed N` (N lines), `rdock-key-absent`, or fails (exit status not 0) with
# `rdock-revoke-error: …` or the failing tool's own message.

umask 077;
set -f;
IFS= read -r k;
if [ -z "$k" ] || [ -n "$(printf %s "$k" | tr -d A-Za-z0-9+/=)" ]; then
  echo "rdock-revoke-error: no key blob on stdin"; exit 2;
fi;
# KEY_LINES_AWK: key_lines.awk's program, put here before the script is sent.
p="$KEY_LINES_AWK";
f="$HOME/.ssh/authorized_keys";
# A symbolic link is followed, as sshd and the key install follow it: the file it leads to is
# edited, and the link stays (readlink -f: GNU, busybox and BSD).
if [ -h "$f" ]; then
  f=$(readlink -f "$f") || f=;
  if [ -z "$f" ]; then echo "rdock-revoke-error: cannot follow the link ~/.ssh/authorized_keys"; exit 3; fi;
fi;
# Only a regular file is edited; none at all holds no key.
if [ -f "$f" ]; then x=; elif [ -e "$f" ]; then x=1; else echo rdock-key-absent; exit 0; fi;
if [ -n "$x" ]; then echo "rdock-revoke-error: ~/.ssh/authorized_keys is not a regular file"; exit 3; fi;
n=$(awk -v k="$k" -v o=0 "$p" "$f") || exit 4;
if [ "$n" = 0 ]; then echo rdock-key-absent; exit 0; fi;
# nl=0: the last line has no line break, and keeps none.
nl=1;
if [ -n "$(tail -c 1 "$f")" ]; then nl=0; fi;
# The temp file goes beside the file itself, so that the rename stays on one file system.
t="$(dirname "$f")/.authorized_keys.rdock-$$";
(set -C; : > "$t") || exit 5;
# The trap's text is expanded when it runs, not now.
trap "rm -f \"\$t\"" EXIT;
trap "exit 1" HUP INT PIPE TERM;
# cp -p gives the temp file the file's mode; a read-only file is made writable for the copy only.
ro=;
cp -p "$f" "$t" && { [ -w "$t" ] || { ro=1; chmod u+w "$t"; }; } &&
awk -v k="$k" -v o=1 -v nl="$nl" "$p" "$f" > "$t" &&
{ [ -z "$ro" ] || chmod u-w "$t"; } &&
mv -f "$t" "$f" && echo "rdock-key-removed $n"
