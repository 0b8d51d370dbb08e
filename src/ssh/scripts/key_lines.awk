# The lines of an authorized_keys file whose key blob is `k`, read as sshd reads them: a blank
# line or one whose first word starts with `#` holds no key; otherwise the line is
# `type blob [comment]`, or `options type blob [comment]` where the options end at the first
# space or tab outside double quotes (`\"` inside them is a quote); a CR before the line break is
# not part of the line.
#
# With o=2 it prints `rdock-key-line N OPTIONS` for each line N that holds the key (OPTIONS empty
# when the line has none), for the install to say what restricts a key that is already there.
# With o=0 it prints how many lines hold the key. With o=1 it prints every other line byte for
# byte, each with the line break it had, except the last one printed: it gets one only when nl=1
# (the file's last line had one).
#
# It goes inside a double-quoted sh word (each `"` and `$` is escaped on the way), so it holds no
# backslash before those, and `bs`/`dq` stand for a backslash and a double quote.

# Is w a key type?
function kt(w) {
  return w ~ /^(ssh|ecdsa|sk|rsa-sha2|webauthn)-/ || toupper(w) ~ /^(RSA|DSA|ECDSA|ED25519|ECDSA-SK|ED25519-SK|XMSS)$/
};
# Does line s hold the key k? Its options go in op. (w, i, c, q are locals)
function m(s,  w, i, c, q) {
  op = "";
  sub(/\r$/, "", s);
  if (split(s, w) < 2 || w[1] ~ /^#/) return 0;
  if (kt(w[1])) return w[2] == k;
  # The options: up to the first blank outside double quotes.
  sub(/^[ \t]+/, "", s);
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1);
    if (q == 0 && (c == " " || c == "\t")) break;
    if (c == bs && substr(s, i + 1, 1) == dq) i++; else if (c == dq) q = 1 - q
  }
  op = substr(s, 1, i - 1);
  return q == 0 && split(substr(s, i), w) > 1 && kt(w[1]) && w[2] == k
};
BEGIN { bs = sprintf("%c", 92); dq = sprintf("%c", 34) };
# Each kept line is printed when the next kept one comes, so the last one's line break is known:
# the file ends as it did, with a line break or without, even when its last line held the key.
m($0) { n++; if (o == 2) print "rdock-key-line " NR " " op; next };
o == 1 && held { print h };
o == 1 { h = $0; held = 1 };
END { if (held) printf "%s%s", h, (nl ? ORS : ""); if (o == 0) print n + 0 }
