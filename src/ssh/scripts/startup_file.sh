# Included by read_rc.sh and write_rc.sh: reads the startup file's name from stdin into `rel`,
# and refuses any but the three rdock edits.
IFS= read -r rel;
case "$rel" in
  .bashrc|.zshenv|.config/fish/config.fish) ;;
  *) echo "rdock: not a startup file rdock edits: $rel" >&2; exit 2;;
esac
