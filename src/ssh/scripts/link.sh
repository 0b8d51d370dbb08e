# Links the docker the login shell finds into /usr/local/bin. Sent as it is, or with every `sudo `
# made `sudo -n ` when there is no terminal. Never over an existing file: one there (even a
# dangling link) is named before sudo runs (`ln -s` without `-f` would refuse it too, after sudo
# asked for a password).
# shellcheck source-path=SCRIPTDIR

. ./login_docker.sh;
if [ -z "$lp" ]; then echo "rdock: the login shell does not find docker" >&2; exit 3; fi;
if [ -e /usr/local/bin/docker ] || [ -L /usr/local/bin/docker ]; then
  echo "rdock: /usr/local/bin/docker exists already, and rdock never replaces it" >&2; exit 5;
fi;
sudo ln -sn -- "$lp" /usr/local/bin/docker
