# Replaces the startup file named on stdin's first line with the rest of stdin, when its cksum
# still is the one on the second line (what read_rc.sh said): through a symlink, into a temporary
# file in the same folder that keeps the file's mode, then `mv`. A file that changed, or that the
# user may not write, is left alone.
# shellcheck source-path=SCRIPTDIR

set -e;
. ./startup_file.sh;
IFS= read -r want;
f="$HOME/$rel";
if [ -L "$f" ]; then f=$(readlink -f -- "$f"); fi;
if [ -e "$f" ]; then now=$(cksum < "$f"); else now=missing; fi;
if [ "$now" = "$want" ]; then :; else
  echo "rdock: ~/$rel changed since rdock read it; nothing was written" >&2; exit 4;
fi;
if [ -e "$f" ]; then
  if [ -w "$f" ]; then :; else echo "rdock: ~/$rel is not writable" >&2; exit 3; fi;
fi;
d=$(dirname -- "$f");
mkdir -p -- "$d";
t="$d/.rdock-rc.$$";
gone() { rm -f -- "$t"; };
trap gone EXIT;
if [ -e "$f" ]; then cp -p -- "$f" "$t"; else (set -C; : > "$t"); fi;
cat > "$t";
mv -f -- "$t" "$f";
trap - EXIT;
echo rdock-rc-written
