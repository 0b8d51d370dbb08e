# Prints `rdock-rc CRC SIZE` (POSIX cksum), then the startup file named on stdin; or
# `rdock-rc missing` when there is none.
# shellcheck source-path=SCRIPTDIR

. ./startup_file.sh;
f="$HOME/$rel";
if [ -e "$f" ]; then
  if [ -f "$f" ]; then :; else echo "rdock: ~/$rel is not a regular file" >&2; exit 3; fi;
  echo "rdock-rc $(cksum < "$f")";
  cat -- "$f";
else
  echo "rdock-rc missing";
fi
