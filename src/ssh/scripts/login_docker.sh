# Included by the scripts that need it (its `. ./login_docker.sh` line is replaced with this text
# before they are sent). Sets `lp` to where the remote user's login shell finds docker, or to
# nothing, and `s` to that shell: the login shell reads the user's profile, which may put docker
# on a PATH that ssh commands do not get.

# The login shell from the passwd entry, else $SHELL.
s=$(getent passwd "$(id -un)" 2>/dev/null | cut -d: -f7);
[ -n "$s" ] || s=$SHELL;
lp=;
if [ -n "$s" ]; then
  # No stdin, and at most 5 s where `timeout` exists: a profile may wait or hang.
  t=;
  if command -v timeout >/dev/null 2>&1; then t="timeout 5"; fi;
  # `$t` is empty or two words: it is split on purpose.
  lp=$($t "$s" -lc "command -v docker" </dev/null 2>/dev/null | tail -n 1);
  # Only an absolute path to an executable counts, from the last line printed.
  case $lp in
    /*) [ -x "$lp" ] || lp=;;
    *) lp=;;
  esac;
fi
