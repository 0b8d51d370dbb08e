# rdock's probe: runs on the remote under sh, whatever the login shell, and prints its report
# between rdock-probe-2-begin and rdock-probe-2-end (what a startup file prints stands outside).
# shellcheck source-path=SCRIPTDIR

# stdin: a context's socket path (checked to be plain by rdock), or an empty line.
IFS= read -r sock;
if [ -n "$sock" ]; then DOCKER_HOST="unix://$sock"; export DOCKER_HOST; fi;
echo rdock-probe-2-begin;
echo "shell=$SHELL";
if p=$(command -v docker); then
  echo "docker-path=$p";
  # docker version gets 8 s where the remote has `timeout` (exit 124 when docker hangs).
  t=;
  if command -v timeout >/dev/null 2>&1; then t="timeout 8"; fi;
  # `$t` is empty or two words: it is split on purpose.
  out=$($t docker version --format "{{.Server.Version}}" 2>&1);
  rc=$?;
  s=;
  v=;
  # The default socket does not answer: a rootless daemon's may
  # ($XDG_RUNTIME_DIR/docker.sock, else /run/user/UID/docker.sock).
  if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ -z "$sock" ]; then
    r="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/docker.sock";
    if [ -S "$r" ] && v=$(DOCKER_HOST="unix://$r" $t docker version --format "{{.Server.Version}}" 2>/dev/null); then
      s=$r;
    else
      v=;
    fi;
  fi;
  echo "docker-exit=$rc";
  # These two lines come before docker's own output, which can never forge them.
  echo "rdock-socket=$s";
  echo "rdock-socket-version=$v";
  printf "%s\n" "$out";
else
  # docker is not on this PATH: say the PATH and where the login shell finds docker.
  echo docker-path=;
  echo docker-exit=127;
  echo "path=$PATH";
  . ./login_docker.sh;
  echo "login-shell=$s";
  echo "login-docker=$lp";
fi;
echo rdock-probe-2-end
