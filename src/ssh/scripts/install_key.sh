# Appends the public key read from stdin to ~/.ssh/authorized_keys, unless a line already holds
# its blob as its key (key_lines.awk, the same match as `rdock remove --revoke`'s, so that a blob
# only named in a comment does not count). A last line without a line break gets one first, and
# the key's line then has none: the file still ends as it did, so the revoke (which keeps how the
# file ends) takes out exactly the bytes added here, whatever the line breaks (LF or CRLF).
# umask 077 keeps ~/.ssh and the file private.

umask 077;
set -f;
# `$key` is split on purpose (globbing is off): $2 is the blob, only base64 characters.
# shellcheck disable=SC2086
IFS= read -r key && set -- $key && [ -n "$2" ] && [ -z "$(printf %s "$2" | tr -d A-Za-z0-9+/=)" ] &&
# KEY_LINES_AWK: key_lines.awk's program, put here before the script is sent.
p="$KEY_LINES_AWK" &&
mkdir -p "$HOME/.ssh" && f="$HOME/.ssh/authorized_keys" && touch "$f" &&
n=$(awk -v k="$2" -v o=0 "$p" "$f") &&
if [ "$n" -gt 0 ]; then
  # Which lines, with their options: a restricted key is there but may not log in.
  awk -v k="$2" -v o=2 "$p" "$f";
  echo rdock-key-present;
else
  b=;
  if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then b=1; fi;
  if [ -n "$b" ]; then printf "\n%s" "$key" >> "$f"; else printf "%s\n" "$key" >> "$f"; fi &&
  echo rdock-key-added;
fi
